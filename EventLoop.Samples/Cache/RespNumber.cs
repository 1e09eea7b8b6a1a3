namespace EventLoop.Samples.Cache;

/// <summary>Integer parsing with the exact acceptance rules of Redis's <c>string2ll</c>.</summary>
/// <remarks>
/// Redis is stricter than <see cref="System.Buffers.Text.Utf8Parser"/>: no sign other than a leading
/// '-', no leading zeros, no "-0", no whitespace. Matching it keeps <c>INCR</c> on "01" or "+1" an
/// error, as clients expect, and makes "$01" an invalid bulk length.
/// </remarks>
internal static class RespNumber
{
    /// <summary>Parses a base-10 signed 64-bit integer in Redis's canonical form.</summary>
    /// <param name="text">ASCII digits, optionally preceded by '-'.</param>
    /// <param name="value">The parsed value, or 0 on failure.</param>
    /// <returns><see langword="true"/> if <paramref name="text"/> is a canonical integer that fits in a <see cref="long"/>.</returns>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        // 20: "-9223372036854775808" is the longest valid input.
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        if (i == text.Length || text[i] < (byte)'1' || text[i] > (byte)'9')
        {
            return false;
        }

        // Accumulate as a positive ulong so long.MinValue's magnitude fits.
        ulong magnitude = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - (byte)'0');
            if (digit > 9 || magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + digit;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }
}
