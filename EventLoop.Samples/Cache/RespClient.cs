using System.Buffers;
using System.Net;
using EventLoop.Net;

namespace EventLoop.Samples.Cache;

/// <summary>
/// A small RESP2 client on the loop (<see cref="LoopNetExtensions.ConnectAsync"/> +
/// <see cref="RespRequestWriter"/> + <see cref="RespReplyParser"/>), for the demo and the tests.
/// Requests may be pipelined. Loop-thread only, one caller at a time.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly StreamConnection _connection;
    private readonly ArrayBufferWriter<byte> _requests = new();
    private byte[] _input = new byte[16 * 1024];
    private int _start;
    private int _end;

    private RespClient(StreamConnection connection) => _connection = connection;

    /// <summary>Connects to a RESP server.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">The server.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connected client.</returns>
    public static async Task<RespClient> ConnectAsync(Loop loop, EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return new RespClient(await loop.ConnectAsync(endpoint, cancellationToken));
    }

    /// <summary>Sends one command and waits for its reply (an error reply is returned, not thrown).</summary>
    /// <param name="args">Command name and arguments.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="EndOfStreamException">The server closed the connection before replying.</exception>
    /// <exception cref="InvalidDataException">The reply is not valid RESP.</exception>
    public async Task<RespValue> CommandAsync(params string[] args)
    {
        IReadOnlyList<RespValue> replies = await PipelineAsync([args]);
        return replies[0];
    }

    /// <summary>Sends every command in one write, then reads one reply per command, in order.</summary>
    /// <param name="commands">The commands.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The replies.</returns>
    /// <exception cref="EndOfStreamException">The server closed the connection before the last reply.</exception>
    /// <exception cref="InvalidDataException">A reply is not valid RESP.</exception>
    public async Task<IReadOnlyList<RespValue>> PipelineAsync(IReadOnlyList<string[]> commands, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commands);
        _requests.ResetWrittenCount();
        foreach (string[] command in commands)
        {
            RespRequestWriter.WriteCommand(_requests, command);
        }

        await SendRawAsync(_requests.WrittenMemory, cancellationToken);
        var replies = new RespValue[commands.Count];
        for (int i = 0; i < replies.Length; i++)
        {
            replies[i] = await ReadReplyAsync(cancellationToken);
        }

        return replies;
    }

    /// <summary>Sends bytes as they are (for protocol-error tests).</summary>
    /// <param name="bytes">What to send.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>Completes when the kernel has the bytes.</returns>
    public ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        _connection.SendAsync(bytes, cancellationToken);

    /// <summary>Reads the next reply.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="EndOfStreamException">The server closed the connection first.</exception>
    /// <exception cref="InvalidDataException">The reply is not valid RESP.</exception>
    public async Task<RespValue> ReadReplyAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            OperationStatus status = RespReplyParser.TryParse(_input.AsSpan(_start, _end - _start), out RespValue? value, out int consumed);
            if (status == OperationStatus.Done)
            {
                _start += consumed;
                return value!;
            }

            if (status == OperationStatus.InvalidData)
            {
                throw new InvalidDataException("The server sent an invalid RESP reply.");
            }

            if (await ReceiveMoreAsync(cancellationToken) == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }
        }
    }

    /// <summary>True when the server has closed the connection (reads to end of stream, discarding any data).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>Completes with true once the server closes.</returns>
    public async Task<bool> WaitForCloseAsync(CancellationToken cancellationToken = default)
    {
        _start = _end = 0;
        while (await ReceiveMoreAsync(cancellationToken) > 0)
        {
            _start = _end = 0;
        }

        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _connection.Dispose();

    private async ValueTask<int> ReceiveMoreAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _input.AsSpan(_start, _end - _start).CopyTo(_input);
            _end -= _start;
            _start = 0;
        }

        if (_end == _input.Length)
        {
            Array.Resize(ref _input, _input.Length * 2);
        }

        int received = await _connection.ReceiveAsync(_input.AsMemory(_end), cancellationToken);
        _end += received;
        return received;
    }
}
