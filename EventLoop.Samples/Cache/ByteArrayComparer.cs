namespace EventLoop.Samples.Cache;

/// <summary>
/// Ordinal equality for <c>byte[]</c> keys that also accepts <see cref="ReadOnlySpan{T}"/> probes, so
/// lookups with argument bytes go through <c>Dictionary.GetAlternateLookup</c> without allocating a key.
/// </summary>
/// <remarks>
/// Hashing uses <see cref="HashCode.AddBytes"/>, which is seeded randomly per process, so clients
/// cannot precompute colliding keys to degrade the dictionary (hash flooding).
/// </remarks>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    /// <summary>The shared instance.</summary>
    public static ByteArrayComparer Instance { get; } = new();

    private ByteArrayComparer()
    {
    }

    /// <inheritdoc/>
    public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    /// <inheritdoc/>
    public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

    /// <inheritdoc/>
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    /// <inheritdoc/>
    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = default(HashCode);
        hash.AddBytes(alternate);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
