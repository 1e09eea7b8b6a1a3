using System.CommandLine;
using EventLoop.Samples.Demo;

namespace EventLoop.Samples.Commands;

/// <summary><c>demo</c>: every sample on loopback, then one summary table; exit 0 only if all succeeded.</summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var defaults = new DemoSettings();
        Option<int> requests = CommonOptions.Ranged("--requests", "Echo requests", defaults.EchoRequests, 1, 1_000_000);
        Option<int> connections = CommonOptions.Ranged("--connections", "Echo connections (lowered to fit the descriptor limit)", defaults.EchoConnections, 1, 100_000);
        var command = new Command("demo", "Run every sample on loopback (ports chosen automatically) and print a summary table")
        {
            requests,
            connections,
        };
        command.SetAction(parseResult =>
        {
            var settings = defaults with
            {
                EchoRequests = parseResult.GetValue(requests),
                EchoConnections = parseResult.GetValue(connections),
            };
            return CommandLoop.Run(error, async loop =>
            {
                IReadOnlyList<DemoResult> results = await DemoRunner.RunAllAsync(loop, output, settings);
                return DemoSummary.AllSucceeded(results) ? 0 : CommandErrors.Failure;
            });
        });
        return command;
    }
}
