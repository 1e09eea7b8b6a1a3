namespace EventLoop.Tests.Samples.Cache;

public sealed class CacheExpiryTests
{
    private readonly CacheHarness _cache = new();

    private void Advance(int milliseconds) => _cache.Time.Advance(TimeSpan.FromMilliseconds(milliseconds));

    [Fact]
    public void SetEx_AfterDeadline_GetReturnsNull()
    {
        _cache.Run("SET", "k", "v", "EX", "10");
        Advance(10_000);
        Assert.Equal("$1\r\nv\r\n", _cache.Run("GET", "k"));

        Advance(1);

        Assert.Equal("$-1\r\n", _cache.Run("GET", "k"));
        Assert.Equal(0, _cache.Store.Count);
    }

    [Fact]
    public void TtlPttl_ReportRemainingTime()
    {
        Assert.Equal(":-2\r\n", _cache.Run("TTL", "k"));
        _cache.Run("SET", "k", "v");
        Assert.Equal(":-1\r\n", _cache.Run("TTL", "k"));
        Assert.Equal(":-1\r\n", _cache.Run("PTTL", "k"));

        _cache.Run("SET", "k", "v", "PX", "10000");
        Advance(2_400);

        Assert.Equal(":7600\r\n", _cache.Run("PTTL", "k"));
        Assert.Equal(":8\r\n", _cache.Run("TTL", "k"));
        Advance(200);
        Assert.Equal(":7\r\n", _cache.Run("TTL", "k"));
    }

    [Fact]
    public void SetExatPxat_AbsoluteDeadline()
    {
        long nowMs = _cache.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _cache.Run("SET", "a", "v", "EXAT", ((nowMs / 1000) + 5).ToString(System.Globalization.CultureInfo.InvariantCulture));
        _cache.Run("SET", "b", "v", "PXAT", (nowMs + 1234).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(":5000\r\n", _cache.Run("PTTL", "a"));
        Assert.Equal(":1234\r\n", _cache.Run("PTTL", "b"));
    }

    [Fact]
    public void Set_WithoutKeepTtl_ClearsExpiry()
    {
        _cache.Run("SET", "k", "v", "EX", "10");
        _cache.Run("SET", "k", "w", "KEEPTTL");
        Assert.Equal(":10\r\n", _cache.Run("TTL", "k"));

        _cache.Run("SET", "k", "x");

        Assert.Equal(":-1\r\n", _cache.Run("TTL", "k"));
        Assert.Equal(0, _cache.Store.VolatileCount);
    }

    [Fact]
    public void Incr_KeepsTtl()
    {
        _cache.Run("SET", "n", "1", "EX", "10");
        _cache.Run("INCR", "n");
        Assert.Equal(":10\r\n", _cache.Run("TTL", "n"));
    }

    [Fact]
    public void ExpirePexpirePersist()
    {
        Assert.Equal(":0\r\n", _cache.Run("EXPIRE", "k", "10"));
        _cache.Run("SET", "k", "v");

        Assert.Equal(":1\r\n", _cache.Run("EXPIRE", "k", "10"));
        Assert.Equal(":10000\r\n", _cache.Run("PTTL", "k"));
        Assert.Equal(":1\r\n", _cache.Run("PEXPIRE", "k", "500"));
        Assert.Equal(":500\r\n", _cache.Run("PTTL", "k"));
        Assert.Equal(":1\r\n", _cache.Run("PERSIST", "k"));
        Assert.Equal(":0\r\n", _cache.Run("PERSIST", "k"));
        Assert.Equal(":-1\r\n", _cache.Run("TTL", "k"));
    }

    [Fact]
    public void Expire_NonPositive_DeletesKey()
    {
        _cache.Run("SET", "k", "v");

        Assert.Equal(":1\r\n", _cache.Run("EXPIRE", "k", "-1"));
        Assert.Equal(":0\r\n", _cache.Run("EXISTS", "k"));
    }

    [Fact]
    public void Expire_Options()
    {
        _cache.Run("SET", "k", "v");
        Assert.Equal(":0\r\n", _cache.Run("EXPIRE", "k", "10", "XX"));
        Assert.Equal(":0\r\n", _cache.Run("EXPIRE", "k", "10", "GT"));
        Assert.Equal(":1\r\n", _cache.Run("EXPIRE", "k", "10", "NX"));
        Assert.Equal(":0\r\n", _cache.Run("EXPIRE", "k", "20", "NX"));
        Assert.Equal(":1\r\n", _cache.Run("EXPIRE", "k", "20", "GT"));
        Assert.Equal(":0\r\n", _cache.Run("EXPIRE", "k", "30", "LT"));
        Assert.Equal(":1\r\n", _cache.Run("EXPIRE", "k", "5", "lt"));
        Assert.Equal(":5\r\n", _cache.Run("TTL", "k"));
    }

    [Fact]
    public void Expire_Errors_RedisTexts()
    {
        _cache.Run("SET", "k", "v");
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("EXPIRE", "k", "ten"));
        Assert.Equal("-ERR invalid expire time in 'expire' command\r\n", _cache.Run("EXPIRE", "k", "9223372036854775807"));
        Assert.Equal("-ERR invalid expire time in 'pexpire' command\r\n", _cache.Run("PEXPIRE", "k", "9223372036854775807"));
        Assert.Equal("-ERR Unsupported option FOO\r\n", _cache.Run("EXPIRE", "k", "1", "FOO"));
        Assert.Equal("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", _cache.Run("EXPIRE", "k", "1", "NX", "XX"));
        Assert.Equal("-ERR GT and LT options at the same time are not compatible\r\n", _cache.Run("EXPIRE", "k", "1", "GT", "LT"));
        Assert.Equal("-ERR wrong number of arguments for 'expire' command\r\n", _cache.Run("EXPIRE", "k"));
    }

    [Fact]
    public void ExpireSample_DeletesExpiredKeysNeverRead()
    {
        for (int i = 0; i < 1000; i++)
        {
            string ttl = i % 2 == 0 ? "100" : "100000";
            _cache.Run("SET", "key:" + i, "v", "PX", ttl);
        }

        for (int i = 0; i < 100; i++)
        {
            _cache.Run("SET", "plain:" + i, "v");
        }

        Advance(101);
        int deleted = 0;
        for (int tick = 0; tick < 5000 && _cache.Store.Count > 600; tick++)
        {
            deleted += _cache.Store.ExpireSample(200);
        }

        Assert.Equal(500, deleted);
        Assert.Equal(600, _cache.Store.Count);
        Assert.Equal(500, _cache.Store.VolatileCount);
    }

    [Fact]
    public void ExpireSample_RespectsWorkBound()
    {
        for (int i = 0; i < 1000; i++)
        {
            _cache.Run("SET", "key:" + i, "v", "PX", "1");
        }

        Advance(2);

        int deleted = _cache.Store.ExpireSample(40);

        Assert.InRange(deleted, 1, 40);
        Assert.Equal(1000 - deleted, _cache.Store.Count);
    }

    [Fact]
    public void ExpireSample_FewVolatileKeys_ScansAll()
    {
        _cache.Run("SET", "a", "v", "PX", "5");
        _cache.Run("SET", "b", "v", "PX", "50");
        _cache.Run("SET", "c", "v");
        Advance(10);

        Assert.Equal(1, _cache.Store.ExpireSample(20));
        Assert.Equal(2, _cache.Store.Count);
        Assert.Equal(0, _cache.Store.ExpireSample(20));
    }
}
