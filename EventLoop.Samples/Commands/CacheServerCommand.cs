using System.CommandLine;
using System.Net;
using EventLoop.Samples.Cache;
using EventLoop.Samples.Cache.Sharding;

namespace EventLoop.Samples.Commands;

/// <summary><c>cache-server</c>: the Redis-protocol cache on the loop.</summary>
internal static class CacheServerCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<int> port = CommonOptions.Port(6379);
        Option<string> host = CommonOptions.Host("Address to listen on");
        Option<int> maxKeys = CommonOptions.Ranged("--max-keys", "Most keys held (with --shards: by each shard); writes of new keys beyond it get an OOM error (0: unbounded)", 0, 0, int.MaxValue);
        Option<int> maxClients = CommonOptions.Ranged(
            "--max-clients",
            "Most clients at once (Redis's maxclients); lowered to fit the descriptor limit; the rest get '-ERR max number of clients reached' (0: the descriptor limit decides)",
            ClientLimit.DefaultMaxClients,
            0,
            int.MaxValue);
        Option<int> shards = CommonOptions.Ranged(
            "--shards", "Shard loops, shared nothing: each owns the keys of its hash slots; connections forward commands to the owner", 1, 1, 256);
        // Spinning by default: redis-benchmark's clients wait for each reply, and a loop that
        // polls for 50 µs before it sleeps answers the next request without a kernel wake-up
        // (docs/BENCHMARKS.md, cache-server).
        Option<int> spin = CommonOptions.Spin(50);
        Option<int> blockedThreshold = CommonOptions.BlockedThreshold();
        var command = new Command("cache-server", "Redis-protocol (RESP2) cache server: works with redis-cli and redis-benchmark; Ctrl+C stops it")
        {
            port,
            host,
            maxKeys,
            maxClients,
            shards,
            spin,
            blockedThreshold,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            int limit = parseResult.GetValue(maxKeys);
            int clients = parseResult.GetValue(maxClients);
            int blockedMs = parseResult.GetValue(blockedThreshold);

            // As redis-server does at start-up: raise the soft descriptor limit for the clients wanted,
            // and say so when the hard limit keeps the client limit lower.
            ClientLimit.RaiseDescriptorLimit(clients);
            int shardCount = parseResult.GetValue(shards);
            int spinMicroseconds = parseResult.GetValue(spin);
            void WarnIfLowered(int effective)
            {
                if (effective != clients)
                {
                    error.WriteLine($"cache-server: max clients lowered from {(clients == 0 ? "unlimited" : clients)} to {effective} to fit the open-descriptor limit");
                }
            }

            return CommandLoop.Run(error, async loop =>
            {
                if (shardCount > 1)
                {
                    // This loop only waits for Ctrl+C; the shard loops serve.
                    await using var group = new LoopGroup(shardCount, new LoopGroupOptions { Name = "shard", Loop = CommonOptions.ServerLoopOptions("shard", blockedMs, spinMicroseconds: spinMicroseconds) });
                    await using var sharded = new ShardedCacheServer(group, endpoint, limit) { MaxClients = clients };
                    void StartSharded()
                    {
                        sharded.Start();
                        WarnIfLowered(sharded.EffectiveMaxClients);
                    }

                    return await ServerCommand.ServeAsync(loop, endpoint, output, error, "cache server", StartSharded, () => sharded.LocalEndPoint, sharded.StopAsync);
                }

                await using var server = new CacheServer(loop, endpoint, limit) { MaxClients = clients };
                void Start()
                {
                    server.Start();
                    WarnIfLowered(server.EffectiveMaxClients);
                }

                return await ServerCommand.ServeAsync(loop, endpoint, output, error, "cache server", Start, () => server.LocalEndPoint, server.StopAsync);
            },
            "cache-server",
            blockedMs,
            shardCount > 1 ? 0 : spinMicroseconds);
        });
        return command;
    }
}
