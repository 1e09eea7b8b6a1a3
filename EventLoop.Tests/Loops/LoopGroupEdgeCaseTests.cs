namespace EventLoop.Tests.Loops;

/// <summary>Corner cases of <see cref="LoopGroup"/> and <see cref="Loop.InvokeAsync(Func{Task})"/> a user takes for granted.</summary>
public sealed class LoopGroupEdgeCaseTests
{
    // Liveness bound only: every wait below normally ends in milliseconds.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(-1)]
    [InlineData(2)]
    public void Indexer_OutOfRange_ThrowsArgumentOutOfRange_AsLoopsDoes(int index)
    {
        using var group = new LoopGroup(2);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => group[index]).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => group.Loops[index]);
    }

    [Fact]
    public async Task StopAsync_FromAGreenletOfItsOwnLoop_CompletesAndEndsThatGreenlet()
    {
        var group = new LoopGroup(2);
        Task? stop = null;
        Task invoked = group[0].InvokeAsync(async () =>
        {
            stop = group.StopAsync();
            await stop;
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invoked.WaitAsync(s_bound));
        await stop!.WaitAsync(s_bound);
        Assert.All(group.Loops, loop => Assert.True(loop.IsDisposed));
    }

    [Fact]
    public async Task StopAsync_ConcurrentlyFromManyThreads_AndDisposeBothWays_AllComplete()
    {
        var group = new LoopGroup(3);
        using var go = new ManualResetEventSlim();
        Task<Task>[] stops = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                go.Wait();
                return group.StopAsync();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        go.Set();

        foreach (Task<Task> stop in stops)
        {
            await (await stop.WaitAsync(s_bound)).WaitAsync(s_bound);
        }

        await group.DisposeAsync().AsTask().WaitAsync(s_bound);
        group.Dispose();
        Assert.All(group.Loops, loop => Assert.True(loop.IsDisposed));
        Assert.Throws<ObjectDisposedException>(() => { _ = group.Next().InvokeAsync(() => Task.CompletedTask); });
    }

    [Fact]
    public async Task PinThreads_MoreLoopsThanCpus_EachPinnedToOneCpu_RoundRobin()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int cpus = Environment.ProcessorCount;
        await using var group = new LoopGroup(cpus * 2 + 1, new LoopGroupOptions { PinThreads = true });
        var pinned = new List<int>();
        foreach (Loop loop in group.Loops)
        {
            string list = await loop.InvokeAsync(() => Task.FromResult(
                File.ReadLines("/proc/thread-self/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim()))
                .WaitAsync(s_bound);
            Assert.True(int.TryParse(list, out int cpu), $"expected a single CPU, got '{list}'");
            pinned.Add(cpu);
        }

        // Round robin over the CPUs the process may use (which may be more than ProcessorCount
        // under a CPU quota): loop i shares its CPU with loop i + that many.
        int distinct = pinned.Distinct().Count();
        for (int i = 0; i < pinned.Count; i++)
        {
            Assert.Equal(pinned[i % distinct], pinned[i]);
        }
    }

    [Fact]
    public async Task InvokeAsync_CallerTimesOut_RemoteBodyAwaitingForeignTask_CallerFreedRemoteEndedAsKilled()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];
        var never = new TaskCompletionSource();
        var remoteRunning = new TaskCompletionSource<Greenlet>(TaskCreationOptions.RunContinuationsAsynchronously);

        Exception? caught = await a.InvokeAsync(async () =>
        {
            using CancelScope scope = a.FailAfter(TimeSpan.FromMilliseconds(20));
            try
            {
                await b.InvokeAsync(async () =>
                {
                    remoteRunning.SetResult(Greenlet.Current!);
                    await never.Task; // not a loop wait: only detaching can end it
                });
                return null;
            }
            catch (LoopTimeoutException ex) when (ex.Scope == scope)
            {
                return ex;
            }
        }).WaitAsync(s_bound);

        Assert.IsType<LoopTimeoutException>(caught);
        Greenlet remote = await remoteRunning.Task.WaitAsync(s_bound);
        await remote.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_bound);
        Assert.IsType<OperationCanceledException>(remote.Exception);
    }
}
