using System.Collections.Concurrent;

namespace EventLoop.Tests.Loops;

public sealed class LoopGroupTests
{
    // Liveness bound only: every wait below normally ends in milliseconds.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Loops_TakeTrackGreenletsAcrossThreadsFromTheGroupsLoopOptions()
    {
        await using var untracked = new LoopGroup(1, new LoopGroupOptions { Loop = new LoopOptions { TrackGreenletsAcrossThreads = false } });
        await using var tracked = new LoopGroup(1);

        long perUntracked = await untracked[0].InvokeAsync(() => BytesPerSleepingGreenletAsync(untracked[0])).WaitAsync(s_bound);
        long perTracked = await tracked[0].InvokeAsync(() => BytesPerSleepingGreenletAsync(tracked[0])).WaitAsync(s_bound);

        Assert.Equal(perTracked - 72, perUntracked); // the greenlet's ExecutionContext with its one-value map
    }

    // On the loop thread: bytes per greenlet while 1,000 start and fall asleep, the least of three rounds.
    private static async Task<long> BytesPerSleepingGreenletAsync(Loop loop)
    {
        Func<Task> body = async () => await loop.Sleep(TimeSpan.FromHours(1));
        var greenlets = new Greenlet[1_000];
        long least = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < greenlets.Length; i++)
            {
                greenlets[i] = loop.Spawn(body);
            }

            await loop.Yield(); // every body runs to its sleep
            least = Math.Min(least, (GC.GetAllocatedBytesForCurrentThread() - before) / greenlets.Length);
            foreach (Greenlet g in greenlets)
            {
                g.Kill();
            }

            await loop.JoinAllAsync(greenlets);
        }

        return least;
    }

    [Fact]
    public async Task Ctor_EachLoopOnItsOwnThread_NamedAfterGroup()
    {
        await using var group = new LoopGroup(3, new LoopGroupOptions { Name = "shard" });

        Assert.Equal(3, group.Count);
        Assert.Equal(3, group.Loops.Count);
        var threads = new HashSet<int>();
        for (int i = 0; i < group.Count; i++)
        {
            Assert.Same(group[i], group.Loops[i]);
            Assert.Equal($"shard-{i}", group[i].Name);
            (string? threadName, int threadId, string? loopName) = await group[i]
                .InvokeAsync(() => Task.FromResult((Thread.CurrentThread.Name, Environment.CurrentManagedThreadId, Loop.Current?.Name)))
                .WaitAsync(s_bound);
            Assert.Equal($"shard-{i}", threadName);
            Assert.Equal($"shard-{i}", loopName);
            Assert.True(threads.Add(threadId));
        }

        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
    }

    [Fact]
    public void Ctor_CountBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoopGroup(0));
    }

    [Fact]
    public async Task Next_ManyThreads_StrictRoundRobin()
    {
        await using var group = new LoopGroup(3);
        const int PerThread = 3000;
        var counts = new ConcurrentDictionary<Loop, int>();
        Thread[] threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                counts.AddOrUpdate(group.Next(), 1, (_, n) => n + 1);
            }
        })).ToArray();
        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        Assert.Equal(3, counts.Count);
        Assert.All(group.Loops, loop => Assert.Equal(4 * PerThread / 3, counts[loop]));
    }

    [Fact]
    public async Task StopAsync_DisposesEveryLoop()
    {
        var group = new LoopGroup(2);
        await group.StopAsync().WaitAsync(s_bound);

        Assert.True(group.IsStopping);
        Assert.All(group.Loops, loop => Assert.True(loop.IsDisposed));
        await group.StopAsync().WaitAsync(s_bound); // idempotent
        group.Dispose();
    }

    [Fact]
    public async Task StopAsync_WorkInFlight_EveryInvokeCompletes()
    {
        var group = new LoopGroup(3);
        var started = new CountdownEvent(6);
        var tasks = new List<Task>();
        var finallyRan = 0;
        for (int i = 0; i < 6; i++)
        {
            Loop target = group.Next();
            tasks.Add(target.InvokeAsync(async () =>
            {
                try
                {
                    started.Signal();
                    await target.Sleep(TimeSpan.FromHours(1));
                }
                finally
                {
                    Interlocked.Increment(ref finallyRan);
                }
            }));
        }

        // Greenlets that invoke across loops, stopped while they wait for each other.
        for (int i = 0; i < group.Count; i++)
        {
            Loop from = group[i];
            Loop to = group[(i + 1) % group.Count];
            tasks.Add(from.InvokeAsync(() => to.InvokeAsync(() => to.Sleep(TimeSpan.FromHours(1)).AsTask())));
        }

        Assert.True(started.Wait(s_bound));
        await group.StopAsync().WaitAsync(s_bound);

        // Killed by the stop, or (a greenlet that invokes a loop already gone) refused by it.
        foreach (Task task in tasks)
        {
            Exception error = await Assert.ThrowsAnyAsync<Exception>(() => task.WaitAsync(s_bound));
            Assert.True(error is OperationCanceledException or ObjectDisposedException, error.ToString());
        }

        Assert.Equal(6, finallyRan);
    }

    [Fact]
    public async Task StopAsync_InvokesRacingTheStop_NoneIsLeftPending()
    {
        var group = new LoopGroup(2);
        var tasks = new ConcurrentQueue<Task<int>>();
        using var go = new ManualResetEventSlim();
        Thread[] producers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < 20_000; i++)
            {
                try
                {
                    tasks.Enqueue(group.Next().InvokeAsync(() => Task.FromResult(1)));
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        })).ToArray();
        foreach (Thread t in producers)
        {
            t.Start();
        }

        go.Set();
        Thread.Yield();
        await group.StopAsync().WaitAsync(s_bound);
        foreach (Thread t in producers)
        {
            t.Join();
        }

        foreach (Task<int> task in tasks)
        {
            try
            {
                Assert.Equal(1, await task.WaitAsync(s_bound));
            }
            catch (OperationCanceledException)
            {
                // ended by the stop: completed, which is all this test asks
            }
        }
    }

    [Fact]
    public async Task Failure_OnOneLoop_ReportedWithItsName_OthersKeepRunning()
    {
        var reports = new ConcurrentQueue<(string? Loop, Exception Error)>();
        var options = new LoopGroupOptions
        {
            Name = "workers",
            Loop = new LoopOptions { UnhandledException = ex => reports.Enqueue((Loop.Current?.Name, ex)) },
        };
        await using var group = new LoopGroup(2, options);
        var boom = new InvalidOperationException("boom");
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        group[0].Post(() => throw boom);
        group[0].Post(() => reported.TrySetResult());
        await reported.Task.WaitAsync(s_bound);

        Assert.Equal(42, await group[1].InvokeAsync(() => Task.FromResult(42)).WaitAsync(s_bound));
        Assert.Equal(7, await group[0].InvokeAsync(() => Task.FromResult(7)).WaitAsync(s_bound));
        (string? name, Exception error) = Assert.Single(reports);
        Assert.Equal("workers-0", name);
        Assert.Same(boom, error);
    }

    [Fact]
    public async Task LoopStop_OneLoopAlone_ItKeepsRunning()
    {
        await using var group = new LoopGroup(2);
        group[1].Stop();

        Assert.Equal(5, await group[1].InvokeAsync(() => Task.FromResult(5)).WaitAsync(s_bound));
        Assert.False(group[1].IsDisposed);
    }

    [Fact]
    public async Task Dispose_FromOneOfItsLoops_Throws()
    {
        await using var group = new LoopGroup(1);
        Exception? error = await group[0].InvokeAsync(() => Task.FromResult(Record.Exception(group.Dispose))).WaitAsync(s_bound);

        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public async Task PinThreads_EachLoopThreadAllowedOneCpu()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var group = new LoopGroup(2, new LoopGroupOptions { PinThreads = true });
        foreach (Loop loop in group.Loops)
        {
            string allowed = await loop.InvokeAsync(() => Task.FromResult(
                File.ReadLines("/proc/thread-self/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))))
                .WaitAsync(s_bound);
            string list = allowed.Split(':')[1].Trim();
            Assert.True(int.TryParse(list, out _), $"expected a single CPU, got '{list}'");
        }
    }
}
