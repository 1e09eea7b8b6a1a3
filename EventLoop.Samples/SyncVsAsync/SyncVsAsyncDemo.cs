using System.Diagnostics;

namespace EventLoop.Samples.SyncVsAsync;

/// <summary>
/// gevent's introductory example: the same task run one after another with a blocking sleep,
/// then as greenlets that sleep on the loop, so the waits overlap.
/// </summary>
public static class SyncVsAsyncDemo
{
    /// <summary>How long each task sleeps in the classic example.</summary>
    public static readonly TimeSpan DefaultTaskDuration = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Runs nine tasks sequentially (<c>Task 1 done</c> … <c>Task 9 done</c>), each blocking the loop
    /// thread for <paramref name="taskDuration"/>, then spawns ten greenlets (<c>Task 0 done</c> …
    /// <c>Task 9 done</c>) that each await <see cref="Loop.Sleep"/> and joins them. Loop thread,
    /// inside a greenlet.
    /// </summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the progress lines go.</param>
    /// <param name="taskDuration">Each task's sleep.</param>
    /// <returns>Both elapsed times.</returns>
    public static async Task<SyncVsAsyncResult> RunAsync(Loop loop, TextWriter output, TimeSpan taskDuration)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(taskDuration, TimeSpan.Zero);

        output.WriteLine("Synchronous:");
        long start = Stopwatch.GetTimestamp();
        for (int i = 1; i <= 9; i++)
        {
            // Blocking on purpose: this is the "before" picture, and it stalls the whole loop.
            Thread.Sleep(taskDuration);
            output.WriteLine($"Task {i} done");
        }

        TimeSpan synchronous = Stopwatch.GetElapsedTime(start);
        output.WriteLine($"Synchronous: {synchronous.TotalSeconds:F2} s");

        output.WriteLine("Asynchronous:");
        start = Stopwatch.GetTimestamp();
        var greenlets = new Greenlet[10];
        for (int i = 0; i < greenlets.Length; i++)
        {
            int id = i;
            greenlets[i] = loop.Spawn(async () =>
            {
                await loop.Sleep(taskDuration);
                output.WriteLine($"Task {id} done");
            });
        }

        await loop.JoinAllAsync(greenlets, raiseError: true);
        TimeSpan asynchronous = Stopwatch.GetElapsedTime(start);
        output.WriteLine($"Asynchronous: {asynchronous.TotalSeconds:F2} s");
        return new SyncVsAsyncResult(synchronous, asynchronous);
    }
}
