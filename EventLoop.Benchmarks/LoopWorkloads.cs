namespace EventLoop.Benchmarks;

/// <summary>
/// The hot-path workloads measured by more than one benchmark class (the plain loop in
/// <see cref="CoreBenchmarks"/>, the same loop observed in <see cref="ObservabilityBenchmarks"/>),
/// so each figure of either class times the same code. Each runs its batch of operations (a count,
/// or one per slot of the greenlet array) on a warm loop.
/// </summary>
internal static class LoopWorkloads
{
    private static readonly Action s_noop = static () => { };
    private static readonly Func<Task> s_completed = static () => Task.CompletedTask;
    private static readonly Func<Task> s_sleepOneMs = static async () => await Loop.Current!.Sleep(TimeSpan.FromMilliseconds(1));

    /// <summary>Posts <paramref name="ops"/> no-op callbacks on the loop thread and runs them.</summary>
    public static void PostAndRun(Loop loop, int ops)
    {
        for (int i = 0; i < ops; i++)
        {
            loop.Post(s_noop);
        }

        loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>Spawns a no-op greenlet into every slot of <paramref name="greenlets"/> and joins them all.</summary>
    public static void SpawnAndJoin(Loop loop, Greenlet[] greenlets)
    {
        for (int i = 0; i < greenlets.Length; i++)
        {
            greenlets[i] = loop.Spawn(s_completed);
        }

        loop.JoinAll(greenlets);
    }

    /// <summary>One greenlet resumes after Sleep(0) <paramref name="ops"/> times: one loop iteration per resume.</summary>
    public static void SleepZeroResume(Loop loop, int ops) => loop.Run(async () =>
    {
        for (int i = 0; i < ops; i++)
        {
            await loop.Sleep(TimeSpan.Zero);
        }
    });

    /// <summary>
    /// Every slot of <paramref name="greenlets"/> gets a greenlet that sleeps 1 ms once; all are
    /// joined, so one poll wait is shared by the batch and the figure is the per-sleep overhead.
    /// </summary>
    public static void SleepTimerResume(Loop loop, Greenlet[] greenlets)
    {
        for (int i = 0; i < greenlets.Length; i++)
        {
            greenlets[i] = loop.Spawn(s_sleepOneMs);
        }

        loop.JoinAll(greenlets);
    }
}
