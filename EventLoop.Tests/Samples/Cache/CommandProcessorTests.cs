using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class CommandProcessorTests
{
    private readonly CacheHarness _cache = new();

    [Fact]
    public void Ping_WithAndWithoutMessage()
    {
        Assert.Equal("+PONG\r\n", _cache.Run("PING"));
        Assert.Equal("$2\r\nhi\r\n", _cache.Run("ping", "hi"));
        Assert.Equal("-ERR wrong number of arguments for 'ping' command\r\n", _cache.Run("PING", "a", "b"));
    }

    [Fact]
    public void Echo_ReturnsBulk()
    {
        Assert.Equal("$3\r\nabc\r\n", _cache.Run("EcHo", "abc"));
        Assert.Equal("-ERR wrong number of arguments for 'echo' command\r\n", _cache.Run("ECHO"));
    }

    [Fact]
    public void UnknownCommand_Redis7Text()
    {
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n", _cache.Run("foo", "a", "b"));
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: \r\n", _cache.Run("foo"));
    }

    [Fact]
    public void UnknownCommand_LongArgs_TruncatedAt128()
    {
        string reply = _cache.Run("foo", new string('a', 200), "b");

        Assert.Equal("-ERR unknown command 'foo', with args beginning with: '" + new string('a', 128) + "' \r\n", reply);
    }

    [Fact]
    public void GetSet_RoundTrip()
    {
        Assert.Equal("$-1\r\n", _cache.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _cache.Run("SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", _cache.Run("get", "k"));
        Assert.Equal("+OK\r\n", _cache.Run("set", "k", ""));
        Assert.Equal("$0\r\n\r\n", _cache.Run("GET", "k"));
        Assert.Equal("-ERR wrong number of arguments for 'get' command\r\n", _cache.Run("GET"));
        Assert.Equal("-ERR wrong number of arguments for 'set' command\r\n", _cache.Run("SET", "k"));
    }

    [Fact]
    public void Set_BinaryKeysAndValues_Exact()
    {
        ReadOnlyMemory<byte> key = new byte[] { 0, 255, 13, 10 };
        ReadOnlyMemory<byte> value = new byte[] { 1, 0, 2 };

        Assert.Equal("+OK\r\n", _cache.RunBytes(["SET"u8.ToArray(), key, value]));
        Assert.Equal("$3\r\n\u0001\u0000\u0002\r\n", _cache.RunBytes(["GET"u8.ToArray(), key]));
    }

    [Fact]
    public void Set_NxXx()
    {
        Assert.Equal("$-1\r\n", _cache.Run("SET", "k", "1", "XX"));
        Assert.Equal("+OK\r\n", _cache.Run("SET", "k", "1", "NX"));
        Assert.Equal("$-1\r\n", _cache.Run("SET", "k", "2", "nx"));
        Assert.Equal("+OK\r\n", _cache.Run("SET", "k", "3", "xx"));
        Assert.Equal("$1\r\n3\r\n", _cache.Run("GET", "k"));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "1", "NX", "XX"));
    }

    [Fact]
    public void Set_Get_ReturnsOldValue()
    {
        Assert.Equal("$-1\r\n", _cache.Run("SET", "k", "1", "GET"));
        Assert.Equal("$1\r\n1\r\n", _cache.Run("SET", "k", "2", "GET"));
        Assert.Equal("$1\r\n2\r\n", _cache.Run("SET", "k", "3", "NX", "GET"));
        Assert.Equal("$1\r\n2\r\n", _cache.Run("GET", "k"));
    }

    [Theory]
    [InlineData("EX")]
    [InlineData("PX")]
    [InlineData("EXAT")]
    [InlineData("PXAT")]
    public void Set_ExpireOptionErrors(string option)
    {
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _cache.Run("SET", "k", "v", option, "0"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _cache.Run("SET", "k", "v", option, "-5"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("SET", "k", "v", option, "1.5"));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "v", option));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "v", option, "10", "KEEPTTL"));
        Assert.Equal("$-1\r\n", _cache.Run("GET", "k"));
    }

    [Fact]
    public void Set_ConflictingExpireOptions_SyntaxError()
    {
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "v", "EX", "10", "PX", "100"));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "v", "KEEPTTL", "EX", "10"));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("SET", "k", "v", "BOGUS"));
        Assert.Equal("+OK\r\n", _cache.Run("SET", "k", "v", "EX", "10", "EX", "20"));
    }

    [Fact]
    public void Set_ExOverflow_InvalidExpireTime()
    {
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _cache.Run("SET", "k", "v", "EX", "9223372036854775"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _cache.Run("SET", "k", "v", "PX", "9223372036854775807"));
    }

    [Fact]
    public void DelExists_CountKeys()
    {
        _cache.Run("MSET", "a", "1", "b", "2");

        Assert.Equal(":3\r\n", _cache.Run("EXISTS", "a", "b", "a", "c"));
        Assert.Equal(":2\r\n", _cache.Run("DEL", "a", "b", "c"));
        Assert.Equal(":0\r\n", _cache.Run("EXISTS", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'del' command\r\n", _cache.Run("DEL"));
    }

    [Fact]
    public void IncrDecr_Family()
    {
        Assert.Equal(":1\r\n", _cache.Run("INCR", "n"));
        Assert.Equal(":11\r\n", _cache.Run("INCRBY", "n", "10"));
        Assert.Equal(":10\r\n", _cache.Run("DECR", "n"));
        Assert.Equal(":-90\r\n", _cache.Run("DECRBY", "n", "100"));
        Assert.Equal("$3\r\n-90\r\n", _cache.Run("GET", "n"));
        Assert.Equal(":-1\r\n", _cache.Run("DECR", "fresh"));
    }

    [Fact]
    public void Incr_Errors_RedisTexts()
    {
        _cache.Run("SET", "s", "abc");
        _cache.Run("SET", "z", "01");
        _cache.Run("SET", "max", "9223372036854775807");
        _cache.Run("SET", "min", "-9223372036854775808");

        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("INCR", "s"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("INCR", "z"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("INCRBY", "n", "x"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", _cache.Run("INCR", "max"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", _cache.Run("DECR", "min"));
        Assert.Equal("-ERR decrement would overflow\r\n", _cache.Run("DECRBY", "n", "-9223372036854775808"));
        Assert.Equal("$19\r\n9223372036854775807\r\n", _cache.Run("GET", "max"));
    }

    [Fact]
    public void MGetMSet()
    {
        Assert.Equal("+OK\r\n", _cache.Run("MSET", "a", "1", "b", "2"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n", _cache.Run("MGET", "a", "x", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'mset' command\r\n", _cache.Run("MSET", "a", "1", "b"));
    }

    [Fact]
    public void DbSizeAndFlush()
    {
        _cache.Run("MSET", "a", "1", "b", "2");
        Assert.Equal(":2\r\n", _cache.Run("DBSIZE"));
        Assert.Equal("+OK\r\n", _cache.Run("FLUSHDB"));
        Assert.Equal(":0\r\n", _cache.Run("DBSIZE"));
        _cache.Run("SET", "a", "1");
        Assert.Equal("+OK\r\n", _cache.Run("FLUSHALL", "ASYNC"));
        Assert.Equal(":0\r\n", _cache.Run("DBSIZE"));
        Assert.Equal("-ERR syntax error\r\n", _cache.Run("FLUSHALL", "now"));
    }

    [Fact]
    public void Quit_OkThenClose()
    {
        Assert.Equal("+OK\r\n", _cache.Run("QUIT"));
        Assert.Equal(CommandResult.CloseAfterReply, _cache.LastResult);
        _cache.Run("PING");
        Assert.Equal(CommandResult.Continue, _cache.LastResult);
    }

    [Fact]
    public void Select_OnlyDbZero()
    {
        Assert.Equal("+OK\r\n", _cache.Run("SELECT", "0"));
        Assert.Equal("-ERR DB index is out of range\r\n", _cache.Run("SELECT", "1"));
        Assert.Equal("-ERR DB index is out of range\r\n", _cache.Run("SELECT", "-1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _cache.Run("SELECT", "x"));
    }

    [Fact]
    public void StartupCommands_RedisCliAndBenchmark()
    {
        Assert.Equal("*0\r\n", _cache.Run("COMMAND"));
        Assert.Equal("*0\r\n", _cache.Run("COMMAND", "DOCS"));
        Assert.Equal("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", _cache.Run("CONFIG", "GET", "save"));
        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", _cache.Run("config", "get", "APPENDONLY"));
        Assert.Equal("*0\r\n", _cache.Run("CONFIG", "GET", "maxmemory"));
        Assert.Equal("*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", _cache.Run("CONFIG", "GET", "*"));
        Assert.Equal("-ERR wrong number of arguments for 'config|get' command\r\n", _cache.Run("CONFIG", "GET"));
        Assert.Equal("-ERR unknown subcommand 'bogus'. Try CONFIG HELP.\r\n", _cache.Run("config", "bogus"));
    }

    [Fact]
    public void Client_NameAndInfo()
    {
        Assert.Equal("$-1\r\n", _cache.Run("CLIENT", "GETNAME"));
        Assert.Equal("+OK\r\n", _cache.Run("CLIENT", "SETNAME", "bench"));
        Assert.Equal("$5\r\nbench\r\n", _cache.Run("CLIENT", "GETNAME"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", _cache.Run("CLIENT", "SETNAME", "a b"));
        Assert.Equal("+OK\r\n", _cache.Run("CLIENT", "SETINFO", "lib-name", "redis-py"));
        Assert.Equal(":" + _cache.Session.Id + "\r\n", _cache.Run("CLIENT", "ID"));
        Assert.Equal("-ERR unknown subcommand 'kill'. Try CLIENT HELP.\r\n", _cache.Run("client", "kill"));
    }

    [Fact]
    public void Hello_Resp2Only()
    {
        Assert.Equal("-NOPROTO unsupported protocol version\r\n", _cache.Run("HELLO", "3"));
        Assert.Equal("-ERR Protocol version is not an integer or out of range\r\n", _cache.Run("HELLO", "x"));
        Assert.Equal("-ERR Syntax error in HELLO option 'bogus'\r\n", _cache.Run("HELLO", "2", "bogus"));

        string reply = _cache.Run("HELLO", "2", "SETNAME", "me");

        Assert.StartsWith("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:2\r\n", reply, StringComparison.Ordinal);
        Assert.Equal("$2\r\nme\r\n", _cache.Run("CLIENT", "GETNAME"));
    }

    [Fact]
    public void Info_ReportsVersionAndKeyspace()
    {
        _cache.Run("SET", "a", "1", "EX", "100");

        var reply = _cache.Run("INFO");

        Assert.StartsWith("$", reply, StringComparison.Ordinal);
        Assert.Contains("# Server\r\nredis_version:7.0.0\r\n", reply, StringComparison.Ordinal);
        Assert.Contains("db0:keys=1,expires=1,avg_ttl=0\r\n", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("Keyspace", _cache.Run("INFO", "server"), StringComparison.Ordinal);
    }

    [Fact]
    public void MaxKeys_RejectsNewKeysWithOom()
    {
        var cache = new CacheHarness(maxKeys: 2);
        cache.Run("MSET", "a", "1", "b", "2");

        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", cache.Run("SET", "c", "3"));
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", cache.Run("INCR", "c"));
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", cache.Run("MSET", "a", "1", "c", "3"));
        Assert.Equal("+OK\r\n", cache.Run("SET", "a", "updated"));
        Assert.Equal(":1\r\n", cache.Run("DEL", "b"));
        Assert.Equal("+OK\r\n", cache.Run("SET", "c", "3"));
    }

    [Fact]
    public void MaxKeys_ReclaimsExpiredKeysBeforeOom()
    {
        var cache = new CacheHarness(maxKeys: 1);
        cache.Run("SET", "a", "1", "PX", "10");
        cache.Time.Advance(TimeSpan.FromMilliseconds(11));

        Assert.Equal("+OK\r\n", cache.Run("SET", "b", "2"));
    }
}
