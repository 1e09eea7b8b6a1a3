using System.CommandLine;
using System.Net;
using System.Net.Sockets;
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
        var command = new Command("cache-server", "Redis-protocol (RESP2) cache server: works with redis-cli and redis-benchmark; Ctrl+C stops it")
        {
            port,
            host,
            maxKeys,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            int limit = parseResult.GetValue(maxKeys);
            using var loop = new Loop();

            // Bind inside main but report a failure as a return value, not as main's exception: the
            // loop would log an escaping exception with its stack trace, and this deserves one line.
            return loop.Run(async () =>
            {
                await using var server = new CacheServer(loop, endpoint, limit);
                try
                {
                    server.Start();
                }
                catch (SocketException ex)
                {
                    return CommandErrors.ReportBindFailure(error, endpoint, ex);
                }

                var stopped = new TaskCompletionSource();
                using var signal = ShutdownSignal.Register(loop, () => stopped.TrySetResult());
                output.WriteLine($"cache server listening on {server.LocalEndPoint} (Ctrl+C to stop)");
                await stopped.Task;
                await server.StopAsync(TimeSpan.FromSeconds(2));
                return 0;
            });
        });
        return command;
    }
}
