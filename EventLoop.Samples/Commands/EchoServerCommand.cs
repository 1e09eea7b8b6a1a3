using System.CommandLine;
using System.Net;
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
        Option<int> bufferSize = CommonOptions.Ranged(
            "--buffer-size", "Most bytes received per read (gevent's example reads 1024)", EchoServer.DefaultBufferSize, 1, EchoServer.MaxBufferSize);
        Option<int> loops = CommonOptions.Ranged(
            "--loops", "Loops serving connections, each on its own thread with its own listener (SO_REUSEPORT)", 1, 1, 256);
        Option<int> spin = CommonOptions.Spin(0);
        Option<int> blockedThreshold = CommonOptions.BlockedThreshold();
        var command = new Command("echo-server", "Echo server: StreamServer with a greenlet per connection; Ctrl+C stops it")
        {
            port,
            host,
            quiet,
            bufferSize,
            loops,
            spin,
            blockedThreshold,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            bool isQuiet = parseResult.GetValue(quiet);
            int size = parseResult.GetValue(bufferSize);
            int loopCount = parseResult.GetValue(loops);
            int blockedMs = parseResult.GetValue(blockedThreshold);
            int spinMicroseconds = parseResult.GetValue(spin);
            return CommandLoop.Run(error, async loop =>
            {
                if (loopCount > 1)
                {
                    // This loop only waits for Ctrl+C; the group's loops serve.
                    await using var group = new LoopGroup(loopCount, new LoopGroupOptions { Name = "echo", Loop = CommonOptions.ServerLoopOptions("echo", blockedMs, spinMicroseconds: spinMicroseconds) });
                    await using StreamServer grouped = EchoServer.Create(group, endpoint, isQuiet ? null : output, size);
                    return await ServerCommand.ServeAsync(loop, endpoint, output, error, "echo server", grouped.Start, () => grouped.LocalEndPoint, grouped.StopAsync);
                }

                await using StreamServer server = EchoServer.Create(loop, endpoint, isQuiet ? null : output, size);
                return await ServerCommand.ServeAsync(loop, endpoint, output, error, "echo server", server.Start, () => server.LocalEndPoint, server.StopAsync);
            },
            "echo-server",
            blockedMs,
            loopCount > 1 ? 0 : spinMicroseconds);
        });
        return command;
    }
}
