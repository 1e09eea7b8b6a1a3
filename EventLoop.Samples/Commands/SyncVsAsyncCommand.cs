using System.CommandLine;
using EventLoop.Samples.SyncVsAsync;

namespace EventLoop.Samples.Commands;

/// <summary><c>sync-vs-async</c>: gevent's blocking-versus-greenlets introduction.</summary>
internal static class SyncVsAsyncCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var duration = new Option<double>("--task-seconds")
        {
            Description = "How long each task sleeps",
            DefaultValueFactory = _ => SyncVsAsyncDemo.DefaultTaskDuration.TotalSeconds,
            Validators =
            {
                result =>
                {
                    if (CommonOptions.TryGetValue(result, out double value) && !(value >= 0 && value <= 60))
                    {
                        result.AddError($"--task-seconds: {value} is out of range (0–60)");
                    }
                },
            },
        };
        var command = new Command("sync-vs-async", "Nine tasks with a blocking sleep one after another, then ten greenlets sleeping on the loop at once")
        {
            duration,
        };
        command.SetAction(parseResult =>
        {
            TimeSpan each = TimeSpan.FromSeconds(parseResult.GetValue(duration));
            return CommandLoop.Run(error, async loop =>
            {
                await SyncVsAsyncDemo.RunAsync(loop, output, each);
                return 0;
            });
        });
        return command;
    }
}
