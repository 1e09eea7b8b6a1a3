using System.Buffers;

namespace EventLoop.Samples.Cache;

/// <summary>Parses one RESP2 reply into a <see cref="RespValue"/> tree (client side).</summary>
/// <remarks>
/// Stateless: an incomplete reply is re-parsed from its start once more data arrives. That is
/// quadratic only for huge arrays trickling in, which the demo client never sees. Framing is
/// checked strictly (CRLF required, canonical integers), since a server is expected to be exact.
/// </remarks>
public static class RespReplyParser
{
    // Nesting bound so a hostile reply cannot overflow the stack through recursion.
    private const int MaxDepth = 64;

    /// <summary>Parses the reply at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Received bytes.</param>
    /// <param name="value">The reply on <see cref="OperationStatus.Done"/>, else null.</param>
    /// <param name="consumed">Bytes the reply occupied on <see cref="OperationStatus.Done"/>, else 0.</param>
    /// <returns>
    /// <see cref="OperationStatus.Done"/>, <see cref="OperationStatus.NeedMoreData"/> for an incomplete
    /// reply, or <see cref="OperationStatus.InvalidData"/> for malformed input. Never throws for bad input.
    /// </returns>
    public static OperationStatus TryParse(ReadOnlySpan<byte> buffer, out RespValue? value, out int consumed)
    {
        int position = 0;
        var status = Parse(buffer, ref position, 0, out value);
        consumed = status == OperationStatus.Done ? position : 0;
        if (status != OperationStatus.Done)
        {
            value = null;
        }

        return status;
    }

    private static OperationStatus Parse(ReadOnlySpan<byte> buffer, ref int position, int depth, out RespValue? value)
    {
        value = null;
        if (position >= buffer.Length)
        {
            return OperationStatus.NeedMoreData;
        }

        byte type = buffer[position];
        var rest = buffer[(position + 1)..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            return OperationStatus.NeedMoreData;
        }

        if (lf == 0 || rest[lf - 1] != (byte)'\r')
        {
            return OperationStatus.InvalidData;
        }

        var line = rest[..(lf - 1)];
        int afterLine = position + 1 + lf + 1;
        switch (type)
        {
            case (byte)'+':
            case (byte)'-':
                string text = RespWriter.Latin1.GetString(line);
                value = type == (byte)'+' ? RespValue.SimpleString(text) : RespValue.Error(text);
                position = afterLine;
                return OperationStatus.Done;

            case (byte)':':
                if (!RespNumber.TryParseInt64(line, out long integer))
                {
                    return OperationStatus.InvalidData;
                }

                value = RespValue.FromInteger(integer);
                position = afterLine;
                return OperationStatus.Done;

            case (byte)'$':
                return ParseBulk(buffer, line, afterLine, ref position, out value);

            case (byte)'*':
                return ParseArray(buffer, line, afterLine, ref position, depth, out value);

            default:
                return OperationStatus.InvalidData;
        }
    }

    private static OperationStatus ParseBulk(ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> line, int afterLine, ref int position, out RespValue? value)
    {
        value = null;
        if (!RespNumber.TryParseInt64(line, out long length) || length < -1 || length > int.MaxValue - 2)
        {
            return OperationStatus.InvalidData;
        }

        if (length == -1)
        {
            value = RespValue.NullBulkString;
            position = afterLine;
            return OperationStatus.Done;
        }

        if (buffer.Length - afterLine < length + 2)
        {
            return OperationStatus.NeedMoreData;
        }

        int end = afterLine + (int)length;
        if (buffer[end] != (byte)'\r' || buffer[end + 1] != (byte)'\n')
        {
            return OperationStatus.InvalidData;
        }

        value = RespValue.BulkString(buffer[afterLine..end].ToArray());
        position = end + 2;
        return OperationStatus.Done;
    }

    private static OperationStatus ParseArray(ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> line, int afterLine, ref int position, int depth, out RespValue? value)
    {
        value = null;
        if (depth >= MaxDepth || !RespNumber.TryParseInt64(line, out long count) || count < -1 || count > int.MaxValue)
        {
            return OperationStatus.InvalidData;
        }

        if (count == -1)
        {
            value = RespValue.NullArray;
            position = afterLine;
            return OperationStatus.Done;
        }

        // Each element takes at least 3 bytes, so a count the buffer cannot hold is not preallocated.
        var items = new List<RespValue>((int)Math.Min(count, (buffer.Length - afterLine) / 3));
        int cursor = afterLine;
        for (long i = 0; i < count; i++)
        {
            var status = Parse(buffer, ref cursor, depth + 1, out var item);
            if (status != OperationStatus.Done)
            {
                return status;
            }

            items.Add(item!);
        }

        value = RespValue.Array(items);
        position = cursor;
        return OperationStatus.Done;
    }
}
