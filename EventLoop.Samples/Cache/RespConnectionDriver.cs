using System.Buffers;

namespace EventLoop.Samples.Cache;

/// <summary>
/// One client connection's protocol state, independent of the transport: bytes in, replies out.
/// Loop-thread only.
/// </summary>
/// <remarks>
/// <para>Intended use by the socket side:</para>
/// <code>
/// await WaitReadable();                          // idle: the driver holds no buffers
/// int n = Receive(driver.GetReceiveMemory());    // the driver rents its input buffer here
/// var action = driver.CommitReceived(n);         // parse + execute every complete request
/// while (!driver.PendingOutput.IsEmpty)
/// {
///     int sent = Send(driver.PendingOutput.Span);
///     driver.AdvanceOutput(sent);
///     if (driver.PendingOutput.IsEmpty) action = driver.Process();   // resume after backpressure
/// }
/// if (action == ConnectionAction.CloseAfterFlush) Close();
/// driver.ReleaseIdleBuffers();                   // before waiting again
/// </code>
/// <para>
/// Pipelined requests produce one batch of replies, queued in a <see cref="ReplyBuffer"/>: pooled
/// chunks plus large stored values by reference, so <see cref="PendingOutput"/> is one segment at a
/// time. Processing pauses while more than <c>outputHighWaterMark</c> bytes of replies are unsent,
/// so a client that pipelines many large GETs without reading cannot grow the output without bound;
/// <see cref="Process"/> resumes. Unprocessed input is capped by
/// <see cref="RespLimits.MaxQueryBufferLength"/>: beyond it the connection is closed without a
/// further reply, like Redis's client-query-buffer-limit. A protocol error is answered with
/// <c>-ERR Protocol error: ...</c> and then the connection closes, as in Redis.
/// </para>
/// <para>
/// Memory: the input buffer, the parser's argument arena and the reply chunks are rented from
/// <see cref="ArrayPool{T}.Shared"/> when first needed and returned when the connection goes idle
/// (<see cref="ReleaseIdleBuffers"/>; replies as soon as they are sent). A connection waiting
/// between requests holds only its objects, not buffers; one waiting in the middle of a small
/// request (a slow or malicious sender) holds only the bytes it sent, in an exact-size array.
/// </para>
/// </remarks>
public sealed class RespConnectionDriver
{
    // 16 KiB: Redis's PROTO_IOBUF_LEN read size.
    private const int ReceiveSize = 16 * 1024;

    // A partial request up to this size is moved out of the pooled buffer while the connection
    // waits; a larger one keeps the buffer (a big value arriving, not an idle client).
    private const int IdleRetainLimit = 1024;
    private const int DefaultOutputHighWaterMark = 1024 * 1024;

    // Input buffers up to 1 MiB come from the shared pool; a request larger than that (a multi-MiB
    // SET) gets its own array, dropped once executed, so the pool never retains huge arrays.
    private const int MaxPooledInput = 1024 * 1024;

    private readonly CommandProcessor _processor;
    private readonly RespParser _parser;
    private readonly RespLimits _limits;
    private readonly int _outputHighWaterMark;
    private readonly ClientSession _session;
    private readonly ReplyBuffer _output = new();

    private byte[] _input = [];
    private bool _inputPooled;
    private int _inputStart;
    private int _inputEnd;
    private bool _closing;

    /// <summary>Creates the state for a new connection; no buffer is allocated until input arrives.</summary>
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

    /// <summary>
    /// The next unsent segment of the replies (empty when all is sent); once
    /// <see cref="AdvanceOutput"/> has covered it, the next segment appears. Valid until the next call on this driver.
    /// </summary>
    public ReadOnlyMemory<byte> PendingOutput => _output.First;

    /// <summary>Total reply bytes produced and not yet acknowledged with <see cref="AdvanceOutput"/>.</summary>
    public long PendingOutputLength => _output.PendingBytes;

    /// <summary>Received bytes not yet executed: a partial request, or requests held back by backpressure.</summary>
    public int BufferedInputLength => _inputEnd - _inputStart;

    /// <summary>True once QUIT, a protocol error or an oversized query buffer has ended the connection.</summary>
    public bool IsClosing => _closing;

    /// <summary>True while unsent output is above the high-water mark, so processing is paused; the transport should stop reading.</summary>
    public bool IsOutputBackpressured => _output.PendingBytes >= _outputHighWaterMark;

    /// <summary>Length of the input buffer this connection holds now (0 when it holds none).</summary>
    public int InputCapacity => _input.Length;

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
            return CloseForQueryBufferLimit();
        }

        if (received.IsEmpty)
        {
            return Process();
        }

        EnsureRoom(received.Length);
        received.CopyTo(_input.AsSpan(_inputEnd));
        _inputEnd += received.Length;
        return Process();
    }

    /// <summary>
    /// Where the transport should receive into: free space after the buffered input, in a buffer
    /// rented now if the connection held none. Pass the count received to <see cref="CommitReceived"/>.
    /// </summary>
    /// <returns>At least one byte of space, and at most one byte more than the query buffer limit allows.</returns>
    public Memory<byte> GetReceiveMemory()
    {
        long allowed = Math.Max(1, (long)_limits.MaxQueryBufferLength - BufferedInputLength + 1);
        EnsureRoom((int)Math.Min(ReceiveSize, allowed));
        int room = _input.Length - _inputEnd;
        return _input.AsMemory(_inputEnd, (int)Math.Min(room, allowed));
    }

    /// <summary>Accounts for <paramref name="count"/> bytes received into <see cref="GetReceiveMemory"/>, then executes what it can.</summary>
    /// <param name="count">Bytes the transport wrote at the start of that memory.</param>
    /// <returns>Whether to keep the connection open once <see cref="PendingOutput"/> is sent.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or beyond the buffer.</exception>
    public ConnectionAction CommitReceived(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _input.Length - _inputEnd);
        if (_closing)
        {
            return ConnectionAction.CloseAfterFlush;
        }

        _inputEnd += count;
        if (BufferedInputLength > _limits.MaxQueryBufferLength)
        {
            return CloseForQueryBufferLimit();
        }

        return Process();
    }

    /// <summary>Executes buffered complete requests; call after sending output to resume from backpressure.</summary>
    /// <returns>Whether to keep the connection open once <see cref="PendingOutput"/> is sent.</returns>
    public ConnectionAction Process()
    {
        while (!_closing && !IsOutputBackpressured && _inputEnd > _inputStart)
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
        }

        return _closing ? ConnectionAction.CloseAfterFlush : ConnectionAction.Continue;
    }

    /// <summary>Marks <paramref name="bytesSent"/> bytes of <see cref="PendingOutput"/> as sent.</summary>
    /// <param name="bytesSent">How many bytes from the start of <see cref="PendingOutput"/> the transport sent.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytesSent"/> is negative or more than <see cref="PendingOutput"/> holds.</exception>
    public void AdvanceOutput(int bytesSent) => _output.MarkSent(bytesSent);

    /// <summary>
    /// Gives buffers back before the connection waits for more input: the input buffer and the
    /// argument arena go back to the pool when nothing is buffered; a small partial request is
    /// moved into an exact-size array. Reply chunks went back when they were sent.
    /// </summary>
    public void ReleaseIdleBuffers()
    {
        int buffered = BufferedInputLength;
        if (buffered == 0)
        {
            _inputStart = _inputEnd = 0;
            ReturnInput();
            _parser.ReleaseStorage();
        }
        else if (_inputPooled && buffered <= IdleRetainLimit)
        {
            byte[] exact = _input.AsSpan(_inputStart, buffered).ToArray();
            ReturnInput();
            _input = exact;
            _inputStart = 0;
            _inputEnd = buffered;
        }
    }

    /// <summary>Returns every buffer to the pool and drops unsent replies: the connection is over.</summary>
    public void Release()
    {
        _closing = true;
        ReleaseInput();
        _output.Clear();
    }

    private ConnectionAction CloseForQueryBufferLimit()
    {
        _closing = true;
        ReleaseInput();
        return ConnectionAction.CloseAfterFlush;
    }

    // Makes room for 'count' more bytes after the buffered input: compacts in place, or moves to a
    // bigger buffer (doubling, so a large request costs O(log n) moves).
    private void EnsureRoom(int count)
    {
        if (_input.Length - _inputEnd >= count)
        {
            return;
        }

        int buffered = _inputEnd - _inputStart;
        long needed = (long)buffered + count;
        if (needed <= _input.Length)
        {
            _input.AsSpan(_inputStart, buffered).CopyTo(_input);
        }
        else
        {
            int size = (int)Math.Min(Math.Max(Math.Max((long)_input.Length * 2, ReceiveSize), needed), Array.MaxLength);
            bool pooled = size <= MaxPooledInput;
            byte[] bigger = pooled ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
            _input.AsSpan(_inputStart, buffered).CopyTo(bigger);
            ReturnInput();
            _input = bigger;
            _inputPooled = pooled;
        }

        _inputStart = 0;
        _inputEnd = buffered;
    }

    private void ReturnInput()
    {
        if (_inputPooled)
        {
            ArrayPool<byte>.Shared.Return(_input);
        }

        _input = [];
        _inputPooled = false;
    }

    private void ReleaseInput()
    {
        _inputStart = _inputEnd = 0;
        _parser.Reset();
        _parser.ReleaseStorage();
        ReturnInput();
    }
}
