using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>ASCII case-insensitive equality for byte strings, with span probes (for command names).</summary>
internal sealed class AsciiIgnoreCaseComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    /// <summary>The shared instance.</summary>
    public static AsciiIgnoreCaseComparer Instance { get; } = new();

    private AsciiIgnoreCaseComparer()
    {
    }

    /// <inheritdoc/>
    public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && Ascii.EqualsIgnoreCase(x, y));

    /// <inheritdoc/>
    public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

    /// <inheritdoc/>
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => Ascii.EqualsIgnoreCase(alternate, other);

    /// <inheritdoc/>
    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        // Folding bit 0x20 maps 'A'..'Z' onto 'a'..'z'; it also merges some non-letters, which only
        // costs a collision, never a wrong match (Equals decides).
        uint hash = 2166136261;
        foreach (byte b in alternate)
        {
            hash = (hash ^ (uint)(b | 0x20)) * 16777619;
        }

        return (int)hash;
    }

    /// <inheritdoc/>
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
