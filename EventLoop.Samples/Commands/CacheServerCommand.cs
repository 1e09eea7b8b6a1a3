using System.CommandLine;
using System.Net;
using EventLoop.Samples.Cache;

namespace EventLoop.Samples.Commands;

/// <summary><c>cache-server</c>: the Redis-protocol cache on the loop.</summary>
internal static class CacheServerCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<int> port = CommonOptions.Port(6379);
        Option<string> host = CommonOptions.Host("Address to listen on");
        Option<int> maxKeys = CommonOptions.Ranged("--max-keys", "Most keys held; writes of new keys beyond it get an OOM error (0: unbounded)", 0, 0, int.MaxValue);
        Option<int> blockedThreshold = CommonOptions.BlockedThreshold();
        var command = new Command("cache-server", "Redis-protocol (RESP2) cache server: works with redis-cli and redis-benchmark; Ctrl+C stops it")
        {
            port,
            host,
            maxKeys,
            blockedThreshold,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            int limit = parseResult.GetValue(maxKeys);
            int blockedMs = parseResult.GetValue(blockedThreshold);
            using var loop = new Loop(CommonOptions.ServerLoopOptions("cache-server", blockedMs));

            return loop.Run(async () =>
            {
                await using var server = new CacheServer(loop, endpoint, limit);
                return await ServerCommand.ServeAsync(loop, endpoint, output, error, "cache server", server.Start, () => server.LocalEndPoint, server.StopAsync);
            });
        });
        return command;
    }
}
