using System.Buffers;

namespace EventLoop.Samples.Cache;

/// <summary>
/// Incremental RESP2 request parser: multibulk (<c>*N\r\n$len\r\n...</c>) and inline
/// (<c>PING\r\n</c>) requests, one request per successful call.
/// </summary>
/// <remarks>
/// <para>
/// Calling convention: pass the unprocessed input; on <see cref="OperationStatus.Done"/> drop
/// <c>consumed</c> bytes and read <see cref="Arguments"/>; on <see cref="OperationStatus.NeedMoreData"/>
/// drop <c>consumed</c> bytes (only ignorable input such as empty lines or <c>*0</c>, never part of
/// a request), append more input and call again with the whole remainder. On
/// <see cref="OperationStatus.InvalidData"/> reply <c>-ERR</c> + the error and close, as Redis does.
/// </para>
/// <para>
/// The parser remembers how far into a partial multibulk request it already got (arguments
/// completed so far sit in <see cref="Arguments"/>), so a large request trickling in is parsed in
/// linear time instead of from the start on every call. That is why the remainder passed next
/// time must begin with the same bytes; <see cref="Reset"/> forgets the partial request.
/// </para>
/// <para>
/// Like Redis, the two bytes after a header line's '\r' and after bulk data are skipped unchecked,
/// and header lines longer than <see cref="RespLimits.MaxInlineLength"/> without a CRLF are errors.
/// Inline requests are split like Redis's <c>sdssplitargs</c>: whitespace separates arguments,
/// double quotes support <c>\xHH</c>, <c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\b</c>, <c>\a</c> escapes, and
/// single quotes support <c>\'</c>. Unlike C strings, a NUL byte is ordinary data.
/// </para>
/// Not thread-safe; one instance per connection.
/// </remarks>
public sealed class RespParser
{
    /// <summary>Redis's reply for a bad <c>*N</c> count.</summary>
    public const string InvalidMultibulkLength = "Protocol error: invalid multibulk length";

    /// <summary>Redis's reply for a bad <c>$N</c> length.</summary>
    public const string InvalidBulkLength = "Protocol error: invalid bulk length";

    /// <summary>Redis's reply for an inline line over the limit.</summary>
    public const string TooBigInlineRequest = "Protocol error: too big inline request";

    /// <summary>Redis's reply for a <c>*N</c> line over the limit.</summary>
    public const string TooBigMultibulkCount = "Protocol error: too big mbulk count string";

    /// <summary>Redis's reply for a <c>$N</c> line over the limit.</summary>
    public const string TooBigBulkCount = "Protocol error: too big bulk count string";

    /// <summary>Redis's reply for an inline request with unterminated quotes.</summary>
    public const string UnbalancedQuotes = "Protocol error: unbalanced quotes in request";

    private readonly RespLimits _limits;
    private readonly RespArguments _arguments = new();

    // Partial multibulk state; _pendingArgs == 0 means no request in progress. _offset is relative
    // to the start of the request, which is the start of the next buffer passed in.
    private int _pendingArgs;
    private int _offset;
    private int _bulkLength = -1;

    /// <summary>Creates a parser.</summary>
    /// <param name="limits">Request limits; <see cref="RespLimits.Default"/> when null.</param>
    public RespParser(RespLimits? limits = null)
    {
        _limits = limits ?? RespLimits.Default;
    }

    /// <summary>
    /// The arguments of the request just parsed, valid after <see cref="OperationStatus.Done"/> until
    /// the next call to <see cref="TryParse"/>.
    /// </summary>
    public RespArguments Arguments => _arguments;

    /// <summary>True while a multibulk request has been partly parsed.</summary>
    public bool HasPartialRequest => _pendingArgs > 0;

    /// <summary>Parses at most one request from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Unprocessed input, starting where the previous call left off.</param>
    /// <param name="consumed">Bytes of <paramref name="buffer"/> that are fully processed and may be dropped.</param>
    /// <param name="protocolError">On <see cref="OperationStatus.InvalidData"/>, Redis's error text (without the "ERR " prefix).</param>
    /// <returns>
    /// <see cref="OperationStatus.Done"/> with one request in <see cref="Arguments"/>;
    /// <see cref="OperationStatus.NeedMoreData"/> if no complete request is buffered;
    /// <see cref="OperationStatus.InvalidData"/> on a protocol error. Never throws for bad input.
    /// </returns>
    public OperationStatus TryParse(ReadOnlySpan<byte> buffer, out int consumed, out string? protocolError)
    {
        protocolError = null;
        if (_pendingArgs > 0)
        {
            consumed = 0;
            return ParseBulks(buffer, 0, ref consumed, ref protocolError);
        }

        int position = 0;
        while (true)
        {
            consumed = position;
            if (position == buffer.Length)
            {
                return OperationStatus.NeedMoreData;
            }

            _arguments.Clear();
            var status = buffer[position] == (byte)'*'
                ? ParseMultibulkHeader(buffer, ref position, out protocolError)
                : ParseInline(buffer, ref position, out protocolError);

            if (status == OperationStatus.InvalidData)
            {
                Reset();
                consumed = 0;
                return status;
            }

            if (status == OperationStatus.NeedMoreData)
            {
                consumed = position;
                return status;
            }

            if (_pendingArgs > 0)
            {
                // Header parsed; the request starts at 'position', and _offset is relative to it.
                consumed = position;
                return ParseBulks(buffer[position..], position, ref consumed, ref protocolError);
            }

            if (_arguments.Count > 0)
            {
                consumed = position;
                return OperationStatus.Done;
            }

            // An empty inline line or *0 / *-1: nothing to execute, look at the next request.
        }
    }

    /// <summary>
    /// Returns the argument storage to its pool when no request is partly parsed (otherwise keeps
    /// it); <see cref="Arguments"/> is empty afterwards. For a connection going idle.
    /// </summary>
    public void ReleaseStorage()
    {
        if (_pendingArgs == 0)
        {
            _arguments.ReleaseStorage();
        }
    }

    /// <summary>Forgets any partially parsed request.</summary>
    public void Reset()
    {
        _pendingArgs = 0;
        _offset = 0;
        _bulkLength = -1;
        _arguments.Clear();
    }

    // On Done, advances 'position' past the header (and sets _pendingArgs/_offset when N > 0).
    // On NeedMoreData, leaves 'position' at the '*'.
    private OperationStatus ParseMultibulkHeader(ReadOnlySpan<byte> buffer, ref int position, out string? error)
    {
        error = null;
        var rest = buffer[position..];
        int cr = rest.IndexOf((byte)'\r');
        if (cr < 0 || cr + 1 >= rest.Length)
        {
            if (rest.Length > _limits.MaxInlineLength)
            {
                error = TooBigMultibulkCount;
                return OperationStatus.InvalidData;
            }

            return OperationStatus.NeedMoreData;
        }

        if (!RespNumber.TryParseInt64(rest[1..cr], out long count) || count > _limits.MaxArrayLength)
        {
            error = InvalidMultibulkLength;
            return OperationStatus.InvalidData;
        }

        if (count <= 0)
        {
            // Redis ignores *0 and *-1 requests.
            position += cr + 2;
            return OperationStatus.Done;
        }

        _pendingArgs = (int)count;
        _offset = cr + 2;
        _bulkLength = -1;
        return OperationStatus.Done;
    }

    // 'request' starts at the request's '*'; 'requestStart' is its offset in the caller's buffer.
    private OperationStatus ParseBulks(ReadOnlySpan<byte> request, int requestStart, ref int consumed, ref string? error)
    {
        while (_pendingArgs > 0)
        {
            if (_bulkLength < 0)
            {
                if (_offset >= request.Length)
                {
                    return OperationStatus.NeedMoreData;
                }

                if (request[_offset] != (byte)'$')
                {
                    error = $"Protocol error: expected '$', got '{Printable(request[_offset])}'";
                    return Fail(ref consumed);
                }

                var rest = request[_offset..];
                int cr = rest.IndexOf((byte)'\r');
                if (cr < 0 || cr + 1 >= rest.Length)
                {
                    if (rest.Length > _limits.MaxInlineLength)
                    {
                        error = TooBigBulkCount;
                        return Fail(ref consumed);
                    }

                    return OperationStatus.NeedMoreData;
                }

                if (!RespNumber.TryParseInt64(rest[1..cr], out long length) || length < 0 || length > _limits.MaxBulkLength)
                {
                    error = InvalidBulkLength;
                    return Fail(ref consumed);
                }

                _bulkLength = (int)length;
                _offset += cr + 2;
            }

            // long: _offset + _bulkLength + 2 can exceed int.MaxValue with generous limits.
            if ((long)request.Length - _offset < (long)_bulkLength + 2)
            {
                return OperationStatus.NeedMoreData;
            }

            _arguments.Add(request.Slice(_offset, _bulkLength));
            _offset += _bulkLength + 2;
            _bulkLength = -1;
            _pendingArgs--;
        }

        consumed = requestStart + _offset;
        _offset = 0;
        return OperationStatus.Done;
    }

    private OperationStatus Fail(ref int consumed)
    {
        Reset();
        consumed = 0;
        return OperationStatus.InvalidData;
    }

    // On Done, advances 'position' past the line's '\n' with the split arguments (possibly none).
    private OperationStatus ParseInline(ReadOnlySpan<byte> buffer, ref int position, out string? error)
    {
        error = null;
        var rest = buffer[position..];
        int newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (rest.Length > _limits.MaxInlineLength)
            {
                error = TooBigInlineRequest;
                return OperationStatus.InvalidData;
            }

            return OperationStatus.NeedMoreData;
        }

        if (newline > _limits.MaxInlineLength)
        {
            error = TooBigInlineRequest;
            return OperationStatus.InvalidData;
        }

        var line = rest[..newline];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (!InlineSplitter.TrySplit(line, _arguments))
        {
            error = UnbalancedQuotes;
            return OperationStatus.InvalidData;
        }

        position += newline + 1;
        return OperationStatus.Done;
    }

    // Redis's error replies replace CR and LF with spaces so the reply stays one line; other bytes
    // go out raw (the string is written back as Latin-1).
    private static char Printable(byte b) => b is (byte)'\r' or (byte)'\n' ? ' ' : (char)b;
}
