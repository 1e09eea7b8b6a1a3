namespace EventLoop.Samples.Cache;

/// <summary>Splits an inline request line into arguments like Redis's <c>sdssplitargs</c>.</summary>
internal static class InlineSplitter
{
    /// <summary>Splits <paramref name="line"/> (without its line terminator) into <paramref name="arguments"/>.</summary>
    /// <param name="line">The inline request line.</param>
    /// <param name="arguments">Receives the arguments; may be left partly filled on failure.</param>
    /// <returns><see langword="false"/> on unbalanced quotes or a closing quote not followed by whitespace.</returns>
    public static bool TrySplit(ReadOnlySpan<byte> line, RespArguments arguments)
    {
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p]))
            {
                p++;
            }

            if (p == line.Length)
            {
                return true;
            }

            // Unescaping only shrinks, so the rest of the line bounds this argument's length.
            var destination = arguments.Reserve(line.Length - p);
            int written = 0;
            bool inDoubleQuotes = false;
            bool inSingleQuotes = false;
            bool done = false;
            while (!done)
            {
                if (p == line.Length)
                {
                    if (inDoubleQuotes || inSingleQuotes)
                    {
                        return false;
                    }

                    break;
                }

                byte c = line[p];
                if (inDoubleQuotes)
                {
                    if (c == (byte)'\\' && p + 3 < line.Length && line[p + 1] == (byte)'x'
                        && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        destination[written++] = (byte)((HexValue(line[p + 2]) << 4) | HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == (byte)'\\' && p + 1 < line.Length)
                    {
                        p++;
                        destination[written++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                    }
                    else if (c == (byte)'"')
                    {
                        // Redis requires whitespace (or the end) after a closing quote.
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        destination[written++] = c;
                    }
                }
                else if (inSingleQuotes)
                {
                    if (c == (byte)'\\' && p + 1 < line.Length && line[p + 1] == (byte)'\'')
                    {
                        p++;
                        destination[written++] = (byte)'\'';
                    }
                    else if (c == (byte)'\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        destination[written++] = c;
                    }
                }
                else if (c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    done = true;
                }
                else if (c == (byte)'"')
                {
                    inDoubleQuotes = true;
                }
                else if (c == (byte)'\'')
                {
                    inSingleQuotes = true;
                }
                else
                {
                    destination[written++] = c;
                }

                p++;
            }

            arguments.ShrinkLast(written);
        }
    }

    // C's isspace in the "C" locale.
    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= (byte)'9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
