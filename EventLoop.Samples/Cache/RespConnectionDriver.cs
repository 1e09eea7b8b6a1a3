using System.Buffers;

namespace EventLoop.Samples.Cache;

/// <summary>
/// One client connection's protocol state, independent of the transport: bytes in, replies out.
/// Loop-thread only.
/// </summary>
/// <remarks>
/// <para>Intended use by the socket side:</para>
/// <code>
/// var action = driver.Feed(received);          // parse + execute every complete request
/// while (!driver.PendingOutput.IsEmpty)
/// {
///     int sent = Send(driver.PendingOutput.Span);
///     driver.AdvanceOutput(sent);
///     if (driver.PendingOutput.IsEmpty) action = driver.Process();   // resume after backpressure
/// }
/// if (action == ConnectionAction.CloseAfterFlush) Close();
/// </code>
/// <para>
/// Pipelined requests produce one batch of replies. Processing pauses while more than
/// <c>outputHighWaterMark</c> bytes of replies are unsent, so a client that pipelines many large GETs
/// without reading cannot grow the output without bound; <see cref="Process"/> resumes. Unprocessed
/// input is capped by <see cref="RespLimits.MaxQueryBufferLength"/>: beyond it the connection is
/// closed without a further reply, like Redis's client-query-buffer-limit. A protocol error is
/// answered with <c>-ERR Protocol error: ...</c> and then the connection closes, as in Redis.
/// </para>
/// </remarks>
public sealed class RespConnectionDriver
{
    // 16 KiB: Redis's PROTO_IOBUF_LEN read size; buffers grown past 4x that are released when empty.
    private const int InitialInputSize = 16 * 1024;
    private const int RetainedInputSize = 64 * 1024;
    private const int RetainedOutputSize = 1024 * 1024;
    private const int DefaultOutputHighWaterMark = 1024 * 1024;

    private readonly CommandProcessor _processor;
    private readonly RespParser _parser;
    private readonly RespLimits _limits;
    private readonly int _outputHighWaterMark;
    private readonly ClientSession _session;

    private byte[] _input = new byte[InitialInputSize];
    private int _inputStart;
    private int _inputEnd;
    private ArrayBufferWriter<byte> _output = new();
    private int _outputSent;
    private bool _closing;

    /// <summary>Creates the state for a new connection.</summary>
    /// <param name="processor">The shared command processor.</param>
    /// <param name="limits">Request limits; <see cref="RespLimits.Default"/> when null.</param>
    /// <param name="outputHighWaterMark">Unsent reply bytes above which request processing pauses (default 1 MiB).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputHighWaterMark"/> is not positive.</exception>
    public RespConnectionDriver(CommandProcessor processor, RespLimits? limits = null, int outputHighWaterMark = DefaultOutputHighWaterMark)
    {
        ArgumentNullException.ThrowIfNull(processor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputHighWaterMark);
        _processor = processor;
        _limits = limits ?? RespLimits.Default;
        _parser = new RespParser(_limits);
        _outputHighWaterMark = outputHighWaterMark;
        _session = processor.CreateSession();
    }

    /// <summary>This connection's client state (id, name).</summary>
    public ClientSession Session => _session;

    /// <summary>Replies produced but not yet acknowledged with <see cref="AdvanceOutput"/>. Valid until the next call on this driver.</summary>
    public ReadOnlyMemory<byte> PendingOutput => _output.WrittenMemory[_outputSent..];

    /// <summary>Received bytes not yet executed: a partial request, or requests held back by backpressure.</summary>
    public int BufferedInputLength => _inputEnd - _inputStart;

    /// <summary>True once QUIT, a protocol error or an oversized query buffer has ended the connection.</summary>
    public bool IsClosing => _closing;

    /// <summary>True while unsent output is above the high-water mark, so processing is paused; the transport should stop reading.</summary>
    public bool IsOutputBackpressured => _output.WrittenCount - _outputSent >= _outputHighWaterMark;

    /// <summary>Appends received bytes, then executes every complete request that backpressure allows.</summary>
    /// <param name="received">Bytes just read from the client; copied, so the caller may reuse its buffer.</param>
    /// <returns>Whether to keep the connection open once <see cref="PendingOutput"/> is sent.</returns>
    public ConnectionAction Feed(ReadOnlySpan<byte> received)
    {
        if (_closing)
        {
            // After QUIT or an error Redis ignores further input.
            return ConnectionAction.CloseAfterFlush;
        }

        if ((long)BufferedInputLength + received.Length > _limits.MaxQueryBufferLength)
        {
            _closing = true;
            ReleaseInput();
            return ConnectionAction.CloseAfterFlush;
        }

        Append(received);
        return Process();
    }

    /// <summary>Executes buffered complete requests; call after sending output to resume from backpressure.</summary>
    /// <returns>Whether to keep the connection open once <see cref="PendingOutput"/> is sent.</returns>
    public ConnectionAction Process()
    {
        while (!_closing && !IsOutputBackpressured)
        {
            var status = _parser.TryParse(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out int consumed, out string? error);
            _inputStart += consumed;
            if (status == OperationStatus.Done)
            {
                if (_processor.Execute(_parser.Arguments, _output, _session) == CommandResult.CloseAfterReply)
                {
                    _closing = true;
                }
            }
            else if (status == OperationStatus.InvalidData)
            {
                RespWriter.WriteError(_output, "ERR " + error);
                _closing = true;
            }
            else
            {
                break;
            }
        }

        if (_closing)
        {
            ReleaseInput();
        }
        else if (_inputStart == _inputEnd)
        {
            _inputStart = _inputEnd = 0;
            if (_input.Length > RetainedInputSize)
            {
                _input = new byte[InitialInputSize];
            }
        }

        return _closing ? ConnectionAction.CloseAfterFlush : ConnectionAction.Continue;
    }

    /// <summary>Marks <paramref name="bytesSent"/> bytes of <see cref="PendingOutput"/> as sent.</summary>
    /// <param name="bytesSent">How many bytes from the start of <see cref="PendingOutput"/> the transport sent.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytesSent"/> is negative or more than is pending.</exception>
    public void AdvanceOutput(int bytesSent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesSent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytesSent, _output.WrittenCount - _outputSent);
        _outputSent += bytesSent;
        if (_outputSent == _output.WrittenCount)
        {
            _outputSent = 0;
            if (_output.Capacity > RetainedOutputSize)
            {
                _output = new ArrayBufferWriter<byte>();
            }
            else
            {
                _output.ResetWrittenCount();
            }
        }
    }

    private void Append(ReadOnlySpan<byte> received)
    {
        if (_input.Length - _inputEnd < received.Length)
        {
            int buffered = _inputEnd - _inputStart;
            int needed = buffered + received.Length;
            if (needed > _input.Length)
            {
                // Doubling, capped by the query buffer limit already checked against 'needed'.
                long size = Math.Max((long)_input.Length * 2, needed);
                var bigger = new byte[Math.Min(size, Math.Max(needed, _limits.MaxQueryBufferLength))];
                _input.AsSpan(_inputStart, buffered).CopyTo(bigger);
                _input = bigger;
            }
            else
            {
                _input.AsSpan(_inputStart, buffered).CopyTo(_input);
            }

            _inputStart = 0;
            _inputEnd = buffered;
        }

        received.CopyTo(_input.AsSpan(_inputEnd));
        _inputEnd += received.Length;
    }

    private void ReleaseInput()
    {
        _inputStart = _inputEnd = 0;
        _parser.Reset();
        if (_input.Length > RetainedInputSize)
        {
            _input = new byte[InitialInputSize];
        }
    }
}
