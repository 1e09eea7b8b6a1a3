namespace EventLoop.Samples.Cache;

/// <summary>One key in the <see cref="CacheStore"/>: its value and optional absolute expiry.</summary>
/// <remarks>
/// A class rather than a struct so commands can update a value or expiry in place after one lookup.
/// </remarks>
internal sealed class CacheEntry
{
    /// <summary>Marks an entry that never expires.</summary>
    public const long NoExpiry = -1;

    /// <summary>Creates an entry.</summary>
    /// <param name="key">The key bytes, owned by the entry (also the dictionary key).</param>
    /// <param name="value">The value bytes, owned by the entry.</param>
    public CacheEntry(byte[] key, byte[] value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>The key; same array instance as the dictionary key.</summary>
    public byte[] Key { get; }

    /// <summary>The value; replaced (or overwritten in place by INCR) as the key is written.</summary>
    public byte[] Value { get; set; }

    /// <summary>Absolute expiry in Unix milliseconds, or <see cref="NoExpiry"/>. Set through <see cref="CacheStore"/>.</summary>
    public long ExpiresAtMs { get; internal set; } = NoExpiry;

    /// <summary>Position in the store's list of volatile entries, or -1.</summary>
    internal int VolatileIndex { get; set; } = -1;
}
