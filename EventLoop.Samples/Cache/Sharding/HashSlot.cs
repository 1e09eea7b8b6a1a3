namespace EventLoop.Samples.Cache.Sharding;

/// <summary>
/// Redis Cluster's key-to-slot mapping: CRC16 (XMODEM) of the key modulo 16384, where a key
/// with a non-empty <c>{hash tag}</c> is hashed by the tag alone, so <c>{user1}.name</c> and
/// <c>{user1}.mail</c> share a slot (and a shard). The same numbers as <c>CLUSTER KEYSLOT</c>.
/// </summary>
public static class HashSlot
{
    /// <summary>The number of slots (Redis Cluster's 16384).</summary>
    public const int Count = 16384;

    private static readonly ushort[] s_table = CreateTable();

    /// <summary>The slot of <paramref name="key"/>, 0 to <see cref="Count"/> - 1.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <returns>The slot.</returns>
    public static int Of(ReadOnlySpan<byte> key) => Crc16(HashedPart(key)) & (Count - 1);

    /// <summary>The shard that owns <paramref name="key"/> among <paramref name="shards"/>: its slot modulo the shard count.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <param name="shards">The number of shards, at least 1.</param>
    /// <returns>The shard index.</returns>
    public static int ShardOf(ReadOnlySpan<byte> key, int shards) => Of(key) % shards;

    /// <summary>The part of the key that is hashed: the first non-empty <c>{…}</c> tag, else the whole key.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <returns>The tag or the key.</returns>
    public static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open < 0)
        {
            return key;
        }

        int close = key[(open + 1)..].IndexOf((byte)'}');
        return close <= 0 ? key : key.Slice(open + 1, close); // "{}" (empty tag): the whole key
    }

    /// <summary>CRC16/XMODEM (polynomial 0x1021, initial 0), as in Redis's crc16.c.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The checksum.</returns>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (byte b in data)
        {
            crc = (ushort)((crc << 8) ^ s_table[((crc >> 8) ^ b) & 0xff]);
        }

        return crc;
    }

    private static ushort[] CreateTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }

            table[i] = (ushort)crc;
        }

        return table;
    }
}
