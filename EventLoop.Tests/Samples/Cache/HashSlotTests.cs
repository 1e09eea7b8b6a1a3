using System.Text;
using EventLoop.Samples.Cache.Sharding;

namespace EventLoop.Tests.Samples.Cache;

public sealed class HashSlotTests
{
    [Fact]
    public void Crc16_CheckValue_MatchesXmodem()
    {
        Assert.Equal(0x31C3, HashSlot.Crc16("123456789"u8));
    }

    [Theory]
    [InlineData("foo", 12182)] // CLUSTER KEYSLOT foo
    [InlineData("bar", 5061)]
    [InlineData("", 0)]
    public void Of_KnownKeys_SameAsClusterKeyslot(string key, int slot)
    {
        Assert.Equal(slot, HashSlot.Of(Encoding.ASCII.GetBytes(key)));
    }

    [Theory]
    [InlineData("{user1000}.following", "{user1000}.followers")]
    [InlineData("foo{bar}", "bar")]
    [InlineData("a{bar}b{zap}", "{bar}")]
    public void Of_HashTags_OnlyTheFirstTagIsHashed(string a, string b)
    {
        Assert.Equal(HashSlot.Of(Encoding.ASCII.GetBytes(a)), HashSlot.Of(Encoding.ASCII.GetBytes(b)));
    }

    [Theory]
    [InlineData("foo{}{bar}")] // an empty first tag: the whole key is hashed
    [InlineData("foo{bar")] // no closing brace
    public void HashedPart_NoUsableTag_WholeKey(string key)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(key);
        Assert.Equal(key, Encoding.ASCII.GetString(HashSlot.HashedPart(bytes)));
    }

    [Fact]
    public void ShardOf_SpreadsKeysOverEveryShard()
    {
        int[] counts = new int[3];
        for (int i = 0; i < 3000; i++)
        {
            counts[HashSlot.ShardOf(Encoding.ASCII.GetBytes($"key:{i}"), 3)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }
}
