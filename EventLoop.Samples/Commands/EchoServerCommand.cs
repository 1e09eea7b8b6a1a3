using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Samples.Echo;

namespace EventLoop.Samples.Commands;

/// <summary><c>echo-server</c>: gevent's echo server, a greenlet per connection.</summary>
internal static class EchoServerCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<int> port = CommonOptions.Port(8001);
        Option<string> host = CommonOptions.Host("Address to listen on");
        Option<bool> quiet = CommonOptions.Quiet("Do not print what is received (use for benchmarks)");
        var command = new Command("echo-server", "Echo server: StreamServer with a greenlet per connection; Ctrl+C stops it")
        {
            port,
            host,
            quiet,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            bool isQuiet = parseResult.GetValue(quiet);
            using var loop = new Loop();

            // Bind inside main but report a failure as a return value, not as main's exception: the
            // loop would log an escaping exception with its stack trace, and this deserves one line.
            return loop.Run(async () =>
            {
                await using StreamServer server = EchoServer.Create(loop, endpoint, isQuiet ? null : output);
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
                output.WriteLine($"echo server listening on {server.LocalEndPoint} (Ctrl+C to stop)");
                await stopped.Task;
                await server.StopAsync(TimeSpan.FromSeconds(2));
                return 0;
            });
        });
        return command;
    }
}
