namespace EventLoop.Samples.Cache;

/// <summary>
/// The keyspace: byte-string keys to byte-string values with optional expiry. Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// Keys are <c>byte[]</c> in a <see cref="Dictionary{TKey,TValue}"/> with an ordinal comparer that
/// also accepts spans, so reads and updates look keys up by the request's argument bytes without
/// allocating; only inserting a new key copies it. Redis keys are binary-safe, which rules out
/// decoding to strings (and Latin-1 strings would double the memory).
/// </para>
/// <para>
/// Time is Unix milliseconds from the injected <see cref="TimeProvider"/>'s <c>GetUtcNow</c>, for both
/// relative (EX/PX/EXPIRE) and absolute (EXAT/PXAT) expiry, like Redis's <c>mstime()</c>: one clock
/// means TTLs and absolute deadlines never disagree. As in Redis a key is expired once
/// <c>now &gt; expiresAt</c>.
/// </para>
/// <para>
/// Expiry is lazy (every lookup deletes an expired key it finds) plus active: the server's
/// <see cref="ActiveExpiry"/> samples keys that have an expiry the way Redis's
/// <c>activeExpireCycle</c> does. Entries with an expiry also live in a list so sampling can pick
/// a random one in O(1) and remove it by swapping with the last.
/// </para>
/// </remarks>
public sealed class CacheStore
{
    /// <summary>Keys examined per sample: Redis's <c>ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP</c>.</summary>
    internal const int KeysPerSample = 20;

    /// <summary>A cycle repeats while more than this share of a sample had expired: Redis 7's <c>ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE</c>.</summary>
    internal const int AcceptableStalePercent = 10;

    private readonly Dictionary<byte[], CacheEntry> _entries = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], CacheEntry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<CacheEntry> _volatile = [];
    private readonly TimeProvider _time;
    private readonly Random _random;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">Clock for expiry; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="maxKeys">Most keys allowed (0 = unbounded); writes of new keys beyond it fail with OOM.</param>
    /// <param name="random">Source for expiry sampling; a fresh <see cref="Random"/> when null. Pass a seeded one for reproducible tests.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxKeys"/> is negative.</exception>
    public CacheStore(TimeProvider? timeProvider = null, int maxKeys = 0, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxKeys);
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? new Random();
        MaxKeys = maxKeys;
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Most keys allowed; 0 means unbounded.</summary>
    public int MaxKeys { get; }

    /// <summary>Number of keys, including expired keys not yet reclaimed (as Redis's DBSIZE).</summary>
    public int Count => _entries.Count;

    /// <summary>Number of keys that have an expiry.</summary>
    public int VolatileCount => _volatile.Count;

    /// <summary>The current time in Unix milliseconds, as used for all expiry decisions.</summary>
    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>True when <see cref="MaxKeys"/> is set and reached.</summary>
    public bool IsFull => MaxKeys > 0 && _entries.Count >= MaxKeys;

    /// <summary>Gets a live key's value.</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="value">The stored value (do not modify), or null.</param>
    /// <returns>True if the key exists and has not expired.</returns>
    public bool TryGet(ReadOnlySpan<byte> key, out byte[]? value)
    {
        var entry = Find(key);
        value = entry?.Value;
        return entry is not null;
    }

    /// <summary>Sets a key's value, clearing any expiry (plain SET semantics). Ignores <see cref="MaxKeys"/>.</summary>
    /// <param name="key">The key bytes (copied if new).</param>
    /// <param name="value">The value; the store takes ownership of the array.</param>
    public void Set(ReadOnlySpan<byte> key, byte[] value) => Upsert(key, value, keepTtl: false);

    /// <summary>Deletes a key.</summary>
    /// <param name="key">The key bytes.</param>
    /// <returns>True if a live key was deleted.</returns>
    public bool Remove(ReadOnlySpan<byte> key)
    {
        var entry = Find(key);
        if (entry is null)
        {
            return false;
        }

        Delete(entry);
        return true;
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        _entries.Clear();
        _volatile.Clear();
    }

    /// <summary>
    /// One count-bounded active-expiry pass: samples up to 20 keys that have an expiry, deletes the
    /// expired ones, and repeats while more than 10% of a sample had expired, examining at most
    /// <paramref name="maxKeys"/> keys in total. The server's own cycle is bounded by time instead
    /// (<see cref="ActiveExpiry"/>); this form reclaims room before refusing a write with OOM.
    /// </summary>
    /// <param name="maxKeys">Work bound: most keys to examine in this call.</param>
    /// <returns>Number of keys deleted.</returns>
    public int ExpireSample(int maxKeys)
    {
        long now = NowMs;
        int examined = 0;
        int deleted = 0;
        while (examined < maxKeys && _volatile.Count > 0)
        {
            int expired = SampleExpired(Math.Min(KeysPerSample, maxKeys - examined), now, out int sampled, out bool scannedAll);
            examined += sampled;
            deleted += expired;
            if (scannedAll || expired * 100 <= sampled * AcceptableStalePercent)
            {
                break;
            }
        }

        return deleted;
    }

    /// <summary>
    /// Examines up to <paramref name="count"/> keys that have an expiry, picked at random (all of
    /// them when there are no more than that), and deletes those expired at <paramref name="now"/>.
    /// </summary>
    /// <param name="count">Most keys to examine.</param>
    /// <param name="now">Unix milliseconds to judge expiry by.</param>
    /// <param name="sampled">How many keys were examined.</param>
    /// <param name="scannedAll">True when every volatile key was examined, so repeating now would find nothing new.</param>
    /// <returns>Number of keys deleted.</returns>
    internal int SampleExpired(int count, long now, out int sampled, out bool scannedAll)
    {
        int expired = 0;
        if (_volatile.Count <= count)
        {
            // Few enough to check them all; random picks would just revisit the same keys.
            sampled = _volatile.Count;
            scannedAll = true;
            for (int i = _volatile.Count - 1; i >= 0; i--)
            {
                if (IsExpired(_volatile[i], now))
                {
                    Delete(_volatile[i]);
                    expired++;
                }
            }

            return expired;
        }

        sampled = count;
        scannedAll = false;
        for (int i = 0; i < count; i++)
        {
            var candidate = _volatile[_random.Next(_volatile.Count)];
            if (IsExpired(candidate, now))
            {
                Delete(candidate);
                expired++;
            }
        }

        return expired;
    }

    /// <summary>Finds a live entry, deleting it first if it has expired (lazy expiry).</summary>
    internal CacheEntry? Find(ReadOnlySpan<byte> key)
    {
        if (!_lookup.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (entry.ExpiresAtMs != CacheEntry.NoExpiry && IsExpired(entry, NowMs))
        {
            Delete(entry);
            return null;
        }

        return entry;
    }

    /// <summary>Inserts or overwrites a key; clears its expiry unless <paramref name="keepTtl"/>.</summary>
    internal CacheEntry Upsert(ReadOnlySpan<byte> key, byte[] value, bool keepTtl) => Upsert(Find(key), key, value, keepTtl);

    /// <summary>As <see cref="Upsert(ReadOnlySpan{byte}, byte[], bool)"/> when the caller already looked the key up.</summary>
    /// <param name="entry">The result of <see cref="Find"/> for <paramref name="key"/>, taken since the last change to the store.</param>
    /// <param name="key">The key bytes (copied if new).</param>
    /// <param name="value">The value; the store takes ownership.</param>
    /// <param name="keepTtl">Keep an existing expiry instead of clearing it.</param>
    internal CacheEntry Upsert(CacheEntry? entry, ReadOnlySpan<byte> key, byte[] value, bool keepTtl)
    {
        if (entry is null)
        {
            var keyCopy = key.ToArray();
            entry = new CacheEntry(keyCopy, value);
            _entries.Add(keyCopy, entry);
            return entry;
        }

        entry.Value = value;
        if (!keepTtl)
        {
            SetExpiry(entry, CacheEntry.NoExpiry);
        }

        return entry;
    }

    /// <summary>Sets or clears (<see cref="CacheEntry.NoExpiry"/>) an entry's absolute expiry.</summary>
    internal void SetExpiry(CacheEntry entry, long expiresAtMs)
    {
        entry.ExpiresAtMs = expiresAtMs;
        if (expiresAtMs == CacheEntry.NoExpiry)
        {
            RemoveVolatile(entry);
        }
        else if (entry.VolatileIndex < 0)
        {
            entry.VolatileIndex = _volatile.Count;
            _volatile.Add(entry);
        }
    }

    /// <summary>Deletes an entry known to be in the store.</summary>
    internal void Delete(CacheEntry entry)
    {
        RemoveVolatile(entry);
        _entries.Remove(entry.Key);
    }

    private static bool IsExpired(CacheEntry entry, long now) => entry.ExpiresAtMs != CacheEntry.NoExpiry && now > entry.ExpiresAtMs;

    private void RemoveVolatile(CacheEntry entry)
    {
        int index = entry.VolatileIndex;
        if (index < 0)
        {
            return;
        }

        // Swap-remove keeps removal O(1); the moved entry learns its new index.
        var last = _volatile[^1];
        _volatile[index] = last;
        last.VolatileIndex = index;
        _volatile.RemoveAt(_volatile.Count - 1);
        entry.VolatileIndex = -1;
    }
}
