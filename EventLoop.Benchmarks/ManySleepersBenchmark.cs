using System.Diagnostics;

namespace EventLoop.Benchmarks;

/// <summary>
/// 100,000 greenlets each sleeping 10 ms, joined: wall time and memory above the baseline.
/// A plain measurement (not BenchmarkDotNet), run with <c>-- sleepers</c>: timed rounds, then one
/// round that forces a full collection while every greenlet sleeps, to read the live bytes.
/// <c>-- sleepers --untracked</c> runs the loops with <see cref="LoopOptions.TrackGreenletsAcrossThreads"/> off.
/// </summary>
public static class ManySleepersBenchmark
{
    /// <summary>Runs the scenario <paramref name="rounds"/> times and prints one line per round.</summary>
    /// <param name="tracked"><see cref="LoopOptions.TrackGreenletsAcrossThreads"/> of the loops.</param>
    /// <param name="count">Sleepers per round.</param>
    /// <param name="rounds">Timed rounds.</param>
    public static void Run(bool tracked = true, int count = 100_000, int rounds = 8)
    {
        Console.WriteLine($"{count:N0} greenlets x Sleep(10 ms), joined{(tracked ? "" : ", greenlets not tracked across threads")}");
        for (int round = 0; round < rounds; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long baseline = GC.GetTotalMemory(forceFullCollection: true);
            using var loop = new Loop(new LoopOptions { TrackGreenletsAcrossThreads = tracked });
            var greenlets = new Greenlet[count];
            long peak = 0;
            var wall = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                greenlets[i] = loop.Spawn(static async () => await Loop.Current!.Sleep(TimeSpan.FromMilliseconds(10)));
            }

            // Spawned last, so it runs right after every sleeper has started (FIFO): all are asleep.
            loop.Spawn(() =>
            {
                peak = GC.GetTotalMemory(false);
                return Task.CompletedTask;
            });
            TimeSpan spawned = wall.Elapsed;
            loop.RunOnce(TimeSpan.Zero); // every body starts and goes to sleep
            TimeSpan started = wall.Elapsed;
            loop.JoinAll(greenlets, raiseError: true);
            wall.Stop();
            Console.WriteLine(
                $"round {round + 1}: {wall.Elapsed.TotalMilliseconds:F1} ms wall (spawn {spawned.TotalMilliseconds:F1}, start {(started - spawned).TotalMilliseconds:F1}, " +
                $"sleep+wake+join {(wall.Elapsed - started).TotalMilliseconds:F1}), {(peak - baseline) / (1024.0 * 1024.0):F1} MiB above baseline while asleep, " +
                $"{GC.CollectionCount(0)} gen0 / {GC.CollectionCount(1)} gen1 / {GC.CollectionCount(2)} gen2 collections so far");
        }

        MeasureLiveMemory(count, tracked);
    }

    // Not timed: the forced full collection while everything sleeps would distort the wall time.
    private static void MeasureLiveMemory(int count, bool tracked)
    {
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long live = 0;
        HoldAsleep(count, () => live = GC.GetTotalMemory(forceFullCollection: true), tracked);
        Console.WriteLine(
            $"live memory while asleep, after a full collection: {(live - baseline) / (double)(1024 * 1024):F1} MiB above baseline, " +
            $"{(live - baseline) / (double)count:F0} B per greenlet (the greenlet array included)");
    }

    /// <summary>
    /// Spawns <paramref name="count"/> greenlets that each sleep 10 ms, calls
    /// <paramref name="whileAsleep"/> from a greenlet spawned last (so it runs right after every
    /// sleeper has started: all are asleep), and joins them.
    /// </summary>
    /// <param name="count">Sleepers.</param>
    /// <param name="whileAsleep">Runs on the loop thread while every sleeper sleeps.</param>
    /// <param name="tracked"><see cref="LoopOptions.TrackGreenletsAcrossThreads"/> of the loop.</param>
    public static void HoldAsleep(int count, Action whileAsleep, bool tracked = true)
    {
        ArgumentNullException.ThrowIfNull(whileAsleep);
        using var loop = new Loop(new LoopOptions { TrackGreenletsAcrossThreads = tracked });
        var greenlets = new Greenlet[count];
        for (int i = 0; i < count; i++)
        {
            greenlets[i] = loop.Spawn(static async () => await Loop.Current!.Sleep(TimeSpan.FromMilliseconds(10)));
        }

        loop.Spawn(() =>
        {
            whileAsleep();
            return Task.CompletedTask;
        });
        loop.JoinAll(greenlets, raiseError: true);
    }
}
