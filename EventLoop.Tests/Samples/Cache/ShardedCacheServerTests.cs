using System.Net;
using CsCheck;
using EventLoop.Samples.Cache;
using EventLoop.Samples.Cache.Sharding;

namespace EventLoop.Tests.Samples.Cache;

/// <summary>The sharded cache (<c>cache-server --shards N</c>) against a single shard, over loopback.</summary>
public sealed class ShardedCacheServerTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);
    private static readonly IPEndPoint s_anyPort = new(IPAddress.Loopback, 0);

    // Keys with and without hash tags, so multi-key commands touch one shard or several.
    private static readonly string[] s_keys = ["a", "b", "c", "foo", "bar", "{t}1", "{t}2", "x{t}", "counter", "k:42"];

    private static readonly Gen<string> s_key = Gen.OneOf(s_keys.Select(Gen.Const).ToArray());
    private static readonly Gen<string> s_value = Gen.OneOf(new[] { "1", "2", "-7", "v", "hello", "" }.Select(Gen.Const).ToArray());

    private static readonly Gen<string[]> s_command = Gen.OneOf(
        Gen.Select(s_key, s_value).Select((k, v) => new[] { "SET", k, v }),
        s_key.Select(k => new[] { "GET", k }),
        s_key.Array[1, 5].Select(ks => ks.Prepend("DEL").ToArray()),
        s_key.Array[1, 5].Select(ks => ks.Prepend("EXISTS").ToArray()),
        s_key.Array[1, 6].Select(ks => ks.Prepend("MGET").ToArray()),
        Gen.Select(s_key, s_value).Array[1, 4].Select(kvs => kvs.SelectMany(kv => new[] { kv.Item1, kv.Item2 }).Prepend("MSET").ToArray()),
        s_key.Select(k => new[] { "INCR", k }),
        s_key.Select(k => new[] { "EXPIRE", k, "1000" }),
        s_key.Select(k => new[] { "TTL", k }),
        s_key.Select(k => new[] { "PERSIST", k }),
        Gen.Const(new[] { "DBSIZE" }),
        Gen.Const(new[] { "MSET", "a" }),
        Gen.Const(new[] { "PING" }));

    [Fact]
    public async Task RandomCommandStreams_ThreeShards_SameRepliesAsOneShard()
    {
        await using var shardGroup = new LoopGroup(3, new LoopGroupOptions { Name = "shard" });
        await using var referenceGroup = new LoopGroup(1, new LoopGroupOptions { Name = "reference" });
        await using var sharded = new ShardedCacheServer(shardGroup, s_anyPort);
        await using var reference = new ShardedCacheServer(referenceGroup, s_anyPort);
        sharded.Start();
        reference.Start();

        using var clientLoop = new Loop();
        clientLoop.Run(async () =>
        {
            using RespClient shardedClient = await RespClient.ConnectAsync(clientLoop, sharded.LocalEndPoint);
            using RespClient referenceClient = await RespClient.ConnectAsync(clientLoop, reference.LocalEndPoint);
            foreach (string[][] stream in s_command.Array[1, 40].Array[40].Single())
            {
                var commands = new List<string[]> { new[] { "FLUSHALL" } };
                commands.AddRange(stream);
                IReadOnlyList<RespValue> expected = await referenceClient.PipelineAsync(commands);
                IReadOnlyList<RespValue> actual = await shardedClient.PipelineAsync(commands);
                for (int i = 0; i < commands.Count; i++)
                {
                    Assert.True(
                        expected[i].ToString() == actual[i].ToString(),
                        $"{string.Join(' ', commands[i])}: expected {expected[i]}, got {actual[i]}");
                }
            }
        });
        await sharded.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
    }

    [Fact]
    public async Task MGet_KeysOnEveryShard_ValuesInKeyOrder_PipelinedRepliesInOrder()
    {
        await using var group = new LoopGroup(2);
        await using var server = new ShardedCacheServer(group, s_anyPort);
        server.Start();
        string[] keys = Enumerable.Range(0, 50).Select(i => $"key:{i}").ToArray();
        Assert.Equal(2, keys.Select(k => HashSlot.ShardOf(System.Text.Encoding.ASCII.GetBytes(k), 2)).Distinct().Count());

        using var clientLoop = new Loop();
        clientLoop.Run(async () =>
        {
            using RespClient client = await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint);
            var pipeline = keys.Select(k => new[] { "SET", k, "v" + k }).ToList();
            pipeline.Add(keys.Prepend("MGET").ToArray());
            pipeline.Add(keys.Prepend("DEL").ToArray());
            pipeline.AddRange(keys.Select(k => new[] { "GET", k }));
            IReadOnlyList<RespValue> replies = await client.PipelineAsync(pipeline);

            Assert.All(replies.Take(keys.Length), r => Assert.Equal("OK", r.ToString()));
            Assert.Equal("[" + string.Join(", ", keys.Select(k => $"\"v{k}\"")) + "]", replies[keys.Length].ToString());
            Assert.Equal($"(integer) {keys.Length}", replies[keys.Length + 1].ToString());
            Assert.All(replies.Skip(keys.Length + 2), r => Assert.Equal("(nil)", r.ToString()));
        });
    }

    [Fact]
    public async Task ClientId_ConnectionsOnEveryShardLoop_AreUniqueServerWide()
    {
        await using var group = new LoopGroup(2);
        await using var server = new ShardedCacheServer(group, s_anyPort);
        server.Start();

        using var clientLoop = new Loop();
        var ids = new List<string>();
        clientLoop.Run(async () =>
        {
            // Enough connections that both shard loops accept some (SO_REUSEPORT spreads them by hash).
            var clients = new List<RespClient>();
            for (int i = 0; i < 16; i++)
            {
                clients.Add(await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint));
            }

            foreach (RespClient client in clients)
            {
                ids.Add((await client.CommandAsync("CLIENT", "ID")).ToString());
                client.Dispose();
            }
        });

        Assert.Equal(16, ids.Distinct().Count());
    }

    [Fact]
    public Task MSetAcrossShards_IsNeverSeenHalfApplied_ByMGetOnOtherConnections() =>
        AssertNoReaderSeesAHalfwayStateAsync(writes: 1500, readers: 4, flushing: false, static (reader, _) => TornMGetAsync(reader));

    // Beside the writer, a client flushes everything over and over, and one reader counts the
    // keys: a flush that reached one shard and not yet the other would show one key, or one key
    // set and the other gone.
    [Fact]
    public Task FlushAllAndDbSize_AcrossShards_AreNeverSeenHalfway() =>
        AssertNoReaderSeesAHalfwayStateAsync(writes: 1000, readers: 3, flushing: true, static (reader, n) => n == 0 ? TornDbSizeAsync(reader) : TornMGetAsync(reader));

    /// <summary>
    /// On a two-shard server, one connection sets a and b (on different shards) together with
    /// MSET, <paramref name="writes"/> times, optionally another flushes everything meanwhile,
    /// and <paramref name="readers"/> connections keep reading with <paramref name="read"/>, which
    /// describes a reply that shows a state between whole commands' effects (null when it shows
    /// none). Every reply must show none.
    /// </summary>
    private static async Task AssertNoReaderSeesAHalfwayStateAsync(int writes, int readers, bool flushing, Func<RespClient, int, Task<string?>> read)
    {
        await using var group = new LoopGroup(2);
        await using var server = new ShardedCacheServer(group, s_anyPort);
        server.Start();
        Assert.NotEqual(HashSlot.ShardOf("a"u8, 2), HashSlot.ShardOf("b"u8, 2));

        int reads = 0;
        var torn = new List<string>();
        using var clientLoop = new Loop();
        clientLoop.Run(async () =>
        {
            using RespClient writer = await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint);
            using RespClient? flusher = flushing ? await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint) : null;
            var clients = new List<RespClient>();
            for (int r = 0; r < readers; r++)
            {
                clients.Add(await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint));
            }

            bool writing = true;
            var work = new List<Greenlet>
            {
                clientLoop.Spawn(async () =>
                {
                    for (int i = 1; i <= writes; i++)
                    {
                        string v = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        Assert.Equal("OK", (await writer.CommandAsync("MSET", "a", v, "b", v)).ToString());
                    }

                    writing = false;
                }),
            };
            if (flusher is not null)
            {
                work.Add(clientLoop.Spawn(async () =>
                {
                    while (writing)
                    {
                        Assert.Equal("OK", (await flusher.CommandAsync("FLUSHALL")).ToString());
                    }
                }));
            }

            work.AddRange(clients.Select((reader, n) => clientLoop.Spawn(async () =>
            {
                while (writing)
                {
                    if (await read(reader, n) is { } halfway)
                    {
                        torn.Add(halfway);
                    }

                    reads++;
                }
            })));

            await clientLoop.JoinAllAsync(work, raiseError: true);
            clients.ForEach(c => c.Dispose());
        });

        Assert.True(reads > 0);
        Assert.Empty(torn);
    }

    // Both keys read at one instant must hold the same value (or both be gone).
    private static async Task<string?> TornMGetAsync(RespClient reader)
    {
        string pair = (await reader.CommandAsync("MGET", "a", "b")).ToString();
        string[] values = pair.Trim('[', ']').Split(", ");
        return values[0] != values[1] ? "MGET " + pair : null;
    }

    // Whole MSETs and whole flushes leave 0 or 2 keys.
    private static async Task<string?> TornDbSizeAsync(RespClient reader)
    {
        string size = (await reader.CommandAsync("DBSIZE")).ToString();
        return size is "(integer) 0" or "(integer) 2" ? null : "DBSIZE " + size;
    }

    // INFO counts every shard's keys. Pipelined before writes to both shards, on connections
    // accepted by either loop, it must count none of them, and the writes must land as sent.
    [Fact]
    public async Task Info_PipelinedBeforeWrites_CountsNoneOfThem_AndTheWritesApply()
    {
        await using var group = new LoopGroup(2);
        await using var server = new ShardedCacheServer(group, s_anyPort);
        server.Start();
        Assert.NotEqual(HashSlot.ShardOf("a"u8, 2), HashSlot.ShardOf("b"u8, 2));

        using var clientLoop = new Loop();
        var failures = new List<string>();
        clientLoop.Run(async () =>
        {
            // Enough connections, one after another, that both loops accept some (SO_REUSEPORT spreads them).
            for (int i = 0; i < 16; i++)
            {
                using RespClient client = await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint);
                IReadOnlyList<RespValue> replies = await client.PipelineAsync(
                [
                    ["INFO", "keyspace"],
                    ["SET", "a", "1"],
                    ["SET", "b", "2"],
                    ["INFO", "keyspace"],
                    ["MGET", "a", "b"],
                    ["DBSIZE"],
                    ["FLUSHALL"],
                ]);
                string actual = string.Join(" | ", replies.Select(r => r.ToString().Replace("\r\n", " ", StringComparison.Ordinal)));
                string expected = "\"# Keyspace \" | OK | OK | \"# Keyspace db0:keys=2,expires=0,avg_ttl=0 \" | [\"1\", \"2\"] | (integer) 2 | OK";
                if (actual != expected)
                {
                    failures.Add(actual);
                }
            }
        });

        Assert.Empty(failures);
    }

    [Fact]
    public async Task SpanningCommands_InOnePipeline_LaterRequestsSeeTheirEffect()
    {
        await using var group = new LoopGroup(2);
        await using var server = new ShardedCacheServer(group, s_anyPort);
        server.Start();

        using var clientLoop = new Loop();
        IReadOnlyList<RespValue>? replies = null;
        clientLoop.Run(async () =>
        {
            using RespClient client = await RespClient.ConnectAsync(clientLoop, server.LocalEndPoint);
            replies = await client.PipelineAsync(
            [
                ["MSET", "a", "1", "b", "1"],
                ["GET", "a"],
                ["GET", "b"],
                ["MSET", "a", "2", "b", "2"],
                ["MGET", "a", "b"],
                ["DEL", "a", "b"],
                ["EXISTS", "a", "b"],
                ["GET", "b"],
            ]);
        });

        Assert.Equal(
            ["OK", "\"1\"", "\"1\"", "OK", "[\"2\", \"2\"]", "(integer) 2", "(integer) 0", "(nil)"],
            replies!.Select(r => r.ToString()));
    }
}
