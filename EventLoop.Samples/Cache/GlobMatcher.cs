namespace EventLoop.Samples.Cache;

/// <summary>Case-insensitive glob matching for CONFIG GET patterns: '*', '?' and literal bytes.</summary>
/// <remarks>Redis's <c>stringmatchlen</c> also has classes and escapes; parameter names never need them.</remarks>
internal static class GlobMatcher
{
    /// <summary>Whether <paramref name="pattern"/> matches all of <paramref name="text"/>, ignoring ASCII case.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text)
    {
        // Iterative wildcard matching with one backtrack point: linear for the patterns we see.
        int p = 0;
        int t = 0;
        int star = -1;
        int starText = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == (byte)'?' || Fold(pattern[p]) == Fold(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == (byte)'*')
            {
                star = p++;
                starText = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++starText;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static byte Fold(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
}
