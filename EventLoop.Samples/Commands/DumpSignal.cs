using System.Runtime.InteropServices;

namespace EventLoop.Samples.Commands;

/// <summary>
/// SIGQUIT (<c>kill -QUIT &lt;pid&gt;</c>, Ctrl+\) prints the loop's greenlets to standard error
/// as a tree, the way a JVM prints its threads, and the server keeps running.
/// </summary>
internal sealed class DumpSignal : IDisposable
{
    private readonly PosixSignalRegistration? _quit;

    private DumpSignal(Loop loop, TextWriter error)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no SIGQUIT there
        }

        // The handler runs on a runtime thread; the dump reads loop state, so it runs on the loop.
        _quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context =>
        {
            context.Cancel = true;
            loop.Post(() =>
            {
                LoopStatistics stats = loop.Statistics;
                error.WriteLine(
                    $"--- {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z loop '{loop.Name}': {stats.LiveGreenlets} greenlets, " +
                    $"{stats.TimersPending} timers, {stats.Registrations} descriptors, {stats.Iterations} iterations, {stats.CallbacksRun} callbacks");
                loop.DumpGreenlets(error);
                error.Flush();
            });
        });
    }

    /// <summary>Prints the greenlet dump on each SIGQUIT until disposed.</summary>
    public static DumpSignal Register(Loop loop, TextWriter error) => new(loop, error);

    public void Dispose() => _quit?.Dispose();
}
