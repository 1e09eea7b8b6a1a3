using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using EventLoop.Samples.Selectors;

namespace EventLoop.Samples.Commands;

/// <summary><c>selectors-echo</c>: Python's selectors echo server, callbacks per descriptor.</summary>
internal static class SelectorsEchoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<int> port = CommonOptions.Port(10000);
        Option<string> host = CommonOptions.Host("Address to listen on");
        var command = new Command("selectors-echo", "Echo server built from per-descriptor callbacks (loop.Register), like Python's selectors example; Ctrl+C stops it")
        {
            port,
            host,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            return CommandLoop.Run(error, async loop =>
            {
                SelectorsEchoServer server;
                try
                {
                    server = new SelectorsEchoServer(loop, endpoint, output);
                }
                catch (SocketException ex)
                {
                    return CommandErrors.ReportBindFailure(error, endpoint, ex);
                }

                using (server)
                {
                    var stopped = new TaskCompletionSource();
                    using var signal = ShutdownSignal.Register(loop, () => stopped.TrySetResult());
                    server.Start();
                    output.WriteLine($"listening on {server.LocalEndPoint} (Ctrl+C to stop)");
                    await stopped.Task;
                }

                return 0;
            });
        });
        return command;
    }
}
