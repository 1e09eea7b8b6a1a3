using System.CommandLine;
using System.Diagnostics;
using System.Net;
using EventLoop.Samples.Echo;
using EventLoop.Samples.Interop;

namespace EventLoop.Samples.Commands;

/// <summary><c>echo-client</c>: the echo benchmark's client, thousands of concurrent greenlets.</summary>
internal static class EchoClientCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<string> host = CommonOptions.Host("Server address");
        Option<int> port = CommonOptions.Ranged("--port", "Server port", 8001, 1, 65535);
        Option<int> requests = CommonOptions.Ranged("--requests", "Requests to send", 20_000, 0, 10_000_000);
        var connections = new Option<int?>("--connections")
        {
            Description = "Connections to spread the requests over [default: as many as the descriptor limit allows, at most one per request]",
            Validators =
            {
                result =>
                {
                    if (CommonOptions.TryGetValue(result, out int? value) && value is < 1 or > 1_000_000)
                    {
                        result.AddError($"--connections: {value} is out of range (1–1000000)");
                    }
                },
            },
        };
        Option<bool> quiet = CommonOptions.Quiet("Print a summary (requests, errors, elapsed, p50/p99) instead of every echo");
        Option<int> timeout = CommonOptions.Timeout((int)EchoClientOptions.DefaultTimeout.TotalSeconds);
        var command = new Command("echo-client", "Echo client: concurrent greenlets each sending 'hello girl' and checking the echo")
        {
            host,
            port,
            requests,
            connections,
            quiet,
            timeout,
        };
        command.SetAction(parseResult =>
        {
            var endpoint = new IPEndPoint(CommonOptions.ParseHost(parseResult.GetRequiredValue(host)), parseResult.GetValue(port));
            int total = parseResult.GetValue(requests);
            bool isQuiet = parseResult.GetValue(quiet);
            var replyTimeout = TimeSpan.FromSeconds(parseResult.GetValue(timeout));
            int count = parseResult.GetValue(connections)
                ?? ConnectionPlan.DefaultConnections(total, Libc.TryGetOpenFileLimit(out ulong soft, out _) ? soft : null);

            // A progress line only where a person watches it; redirected output stays clean.
            bool showProgress = isQuiet && !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
            long lastDraw = 0;
            Action<int>? progress = showProgress
                ? done =>
                {
                    if (Stopwatch.GetElapsedTime(lastDraw) >= TimeSpan.FromMilliseconds(500))
                    {
                        lastDraw = Stopwatch.GetTimestamp();
                        output.Write($"\r{done}/{total} requests");
                    }
                }
                : null;

            return CommandLoop.Run(error, async loop =>
            {
                EchoStats stats = await EchoClient.RunAsync(loop, new EchoClientOptions
                {
                    EndPoint = endpoint,
                    Requests = total,
                    Connections = count,
                    Quiet = isQuiet,
                    Timeout = replyTimeout,
                }, output, progress);
                return Report(stats, output, error, isQuiet, showProgress);
            });
        });
        return command;
    }

    private static int Report(EchoStats stats, TextWriter output, TextWriter error, bool isQuiet, bool showProgress)
    {
        if (showProgress)
        {
            output.Write("\r\x1b[K");
        }

        if (isQuiet)
        {
            output.WriteLine(stats.ToString());
        }

        if (stats.FirstError is not null)
        {
            error.WriteLine($"{stats.Errors} request(s) failed; first: {stats.FirstError}");
        }

        return stats.AllSucceeded ? 0 : CommandErrors.Failure;
    }
}
