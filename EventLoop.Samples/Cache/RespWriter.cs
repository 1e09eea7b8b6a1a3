using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>Writes RESP2 replies into an <see cref="IBufferWriter{T}"/>.</summary>
/// <remarks>
/// Each reply is written with one <c>GetSpan</c>/<c>Advance</c> pair where its size is known, and
/// integers are formatted straight into the output span, so the common replies allocate nothing.
/// Text passed as <see cref="string"/> (errors, simple strings) is encoded as Latin-1, so bytes that
/// came from the client as Latin-1 chars (see <see cref="Latin1"/>) go back out unchanged.
/// </remarks>
public static class RespWriter
{
    // 20 digits + sign for long; 2 for the prefix and CRLF slack.
    private const int MaxIntegerLine = 1 + 20 + 2;

    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    /// <summary>Writes <c>+OK\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    public static void WriteOk(IBufferWriter<byte> output) => WriteRaw(output, "+OK\r\n"u8);

    /// <summary>Writes a simple string reply: <c>+text\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="text">Reply text; must not contain CR or LF.</param>
    public static void WriteSimpleString(IBufferWriter<byte> output, ReadOnlySpan<byte> text) => WriteLine(output, (byte)'+', text);

    /// <summary>Writes a simple string reply: <c>+text\r\n</c>, encoding <paramref name="text"/> as Latin-1.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="text">Reply text; CR and LF are replaced with spaces.</param>
    public static void WriteSimpleString(IBufferWriter<byte> output, string text) => WriteTextLine(output, (byte)'+', text);

    /// <summary>Writes an error reply: <c>-message\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="message">
    /// Full message including its code, e.g. <c>ERR syntax error</c>; encoded as Latin-1, with CR
    /// and LF replaced by spaces as Redis does so the reply stays one line.
    /// </param>
    public static void WriteError(IBufferWriter<byte> output, string message) => WriteTextLine(output, (byte)'-', message);

    /// <summary>Writes an error reply from bytes: <c>-message\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="message">Full message including its code; must not contain CR or LF.</param>
    public static void WriteError(IBufferWriter<byte> output, ReadOnlySpan<byte> message) => WriteLine(output, (byte)'-', message);

    /// <summary>Writes an integer reply: <c>:value\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">The integer.</param>
    public static void WriteInteger(IBufferWriter<byte> output, long value) => WritePrefixedNumber(output, (byte)':', value);

    /// <summary>Writes a bulk string reply: <c>$len\r\nbytes\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">The bytes, which may be empty or binary.</param>
    public static void WriteBulkString(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        // Header and small payloads share one span; large payloads are copied in chunks so a huge
        // value does not require one contiguous span from writers that cap span sizes.
        int total = MaxIntegerLine + value.Length + 2;
        if (value.Length <= 4096)
        {
            var span = output.GetSpan(total);
            int n = FormatPrefixedNumber(span, (byte)'$', value.Length);
            value.CopyTo(span[n..]);
            n += value.Length;
            Crlf.CopyTo(span[n..]);
            output.Advance(n + 2);
            return;
        }

        WritePrefixedNumber(output, (byte)'$', value.Length);
        output.Write(value);
        WriteRaw(output, Crlf);
    }

    /// <summary>
    /// Writes a bulk string reply for a stored value whose array is never modified in place. A
    /// <see cref="ReplyBuffer"/> queues a value of <see cref="ReplyBuffer.ReferenceThreshold"/> bytes
    /// or more by reference instead of copying it; any other writer gets a copy.
    /// </summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">The value; must stay unchanged until the reply is sent.</param>
    public static void WriteStoredBulkString(IBufferWriter<byte> output, byte[] value)
    {
        if (value.Length < ReplyBuffer.ReferenceThreshold || output is not ReplyBuffer replies)
        {
            WriteBulkString(output, value.AsSpan());
            return;
        }

        WritePrefixedNumber(output, (byte)'$', value.Length);
        replies.AppendReference(value);
        WriteRaw(output, Crlf);
    }

    /// <summary>Writes a bulk string reply from Latin-1 text.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">Text whose chars are all below U+0100.</param>
    public static void WriteBulkString(IBufferWriter<byte> output, string value)
    {
        WritePrefixedNumber(output, (byte)'$', value.Length);
        var span = output.GetSpan(value.Length + 2);
        int n = Latin1.GetBytes(value, span);
        Crlf.CopyTo(span[n..]);
        output.Advance(n + 2);
    }

    /// <summary>Writes the null bulk string: <c>$-1\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    public static void WriteNullBulkString(IBufferWriter<byte> output) => WriteRaw(output, "$-1\r\n"u8);

    /// <summary>Writes an array header: <c>*count\r\n</c>; the caller then writes <paramref name="count"/> elements.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="count">Number of elements, zero or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static void WriteArrayHeader(IBufferWriter<byte> output, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WritePrefixedNumber(output, (byte)'*', count);
    }

    /// <summary>Writes the null array: <c>*-1\r\n</c>.</summary>
    /// <param name="output">Destination.</param>
    public static void WriteNullArray(IBufferWriter<byte> output) => WriteRaw(output, "*-1\r\n"u8);

    /// <summary>Copies preformatted reply bytes.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="bytes">Complete RESP bytes.</param>
    public static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);

    /// <summary>Latin-1: maps bytes 0-255 to chars U+0000-U+00FF one to one, so it round-trips any bytes.</summary>
    internal static Encoding Latin1 => Encoding.Latin1;

    private static void WritePrefixedNumber(IBufferWriter<byte> output, byte prefix, long value)
    {
        var span = output.GetSpan(MaxIntegerLine);
        output.Advance(FormatPrefixedNumber(span, prefix, value));
    }

    private static int FormatPrefixedNumber(Span<byte> span, byte prefix, long value)
    {
        span[0] = prefix;
        // Cannot fail: the span holds at least MaxIntegerLine bytes.
        Utf8Formatter.TryFormat(value, span[1..], out int digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        return digits + 3;
    }

    private static void WriteLine(IBufferWriter<byte> output, byte prefix, ReadOnlySpan<byte> text)
    {
        var span = output.GetSpan(text.Length + 3);
        span[0] = prefix;
        text.CopyTo(span[1..]);
        Crlf.CopyTo(span[(1 + text.Length)..]);
        output.Advance(text.Length + 3);
    }

    private static void WriteTextLine(IBufferWriter<byte> output, byte prefix, string text)
    {
        var span = output.GetSpan(text.Length + 3);
        span[0] = prefix;
        var body = span.Slice(1, text.Length);
        Latin1.GetBytes(text, body);
        body.Replace((byte)'\r', (byte)' ');
        body.Replace((byte)'\n', (byte)' ');
        Crlf.CopyTo(span[(1 + text.Length)..]);
        output.Advance(text.Length + 3);
    }
}
