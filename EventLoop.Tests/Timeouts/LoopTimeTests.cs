namespace EventLoop.Tests.Timeouts;

/// <summary>
/// <see cref="Loop.Time"/> hands out loop timers in both clock modes: <c>Task.Delay</c>,
/// <c>CancellationTokenSource</c> and <see cref="PeriodicTimer"/> built on it fire on the loop
/// thread, on virtual time in virtual mode.
/// </summary>
public sealed class LoopTimeTests
{
    // A liveness bound for the real-time cases; they need a few tens of milliseconds.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    private static readonly AsyncLocal<string?> s_flowed = new();

    [Fact]
    public void Time_TimerCallbacks_RunInTheCreatorsExecutionContext_UnlessItsFlowWasSuppressed()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true });
        string? seenByTimer = "unset";
        string? seenByTokenSource = "unset";
        string? seenBySuppressed = "unset";
        string? seenAfter = "unset";
        loop.Run(async () =>
        {
            s_flowed.Value = "creator";
            var fired = new TaskCompletionSource();
            using ITimer timer = loop.Time.CreateTimer(_ => seenByTimer = s_flowed.Value, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
            using var source = new CancellationTokenSource(TimeSpan.FromSeconds(2), loop.Time);
            source.Token.Register(() => seenByTokenSource = s_flowed.Value);
            ITimer suppressed;
            using (ExecutionContext.SuppressFlow())
            {
                suppressed = loop.Time.CreateTimer(_ => { seenBySuppressed = s_flowed.Value; fired.SetResult(); }, null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
            }

            s_flowed.Value = "changed after";
            await fired.Task;
            await suppressed.DisposeAsync();
            loop.CallLater(TimeSpan.Zero, () => seenAfter = s_flowed.Value); // the loop's own callbacks keep the loop's context
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });

        Assert.Equal("creator", seenByTimer);
        Assert.Equal("creator", seenByTokenSource);
        Assert.Null(seenBySuppressed);
        Assert.Null(seenAfter);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Time_TimerCallback_RunsOnTheLoopThread(bool virtualTime)
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = virtualTime });
        int loopThread = -1;
        int callbackThread = 0;
        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            var fired = new TaskCompletionSource();
            using ITimer timer = loop.Time.CreateTimer(
                _ =>
                {
                    callbackThread = Environment.CurrentManagedThreadId;
                    fired.SetResult();
                },
                null,
                TimeSpan.FromMilliseconds(20),
                Timeout.InfiniteTimeSpan);
            await fired.Task.WaitAsync(s_bound);
        });

        Assert.Equal(loopThread, callbackThread);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Time_CancellationTokenSource_CallbacksRunOnTheLoopThread(bool virtualTime)
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = virtualTime });
        int loopThread = -1;
        int callbackThread = 0;
        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(20), loop.Time);
            timeout.Token.Register(() => callbackThread = Environment.CurrentManagedThreadId);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await loop.Sleep(s_bound, timeout.Token));
        });

        Assert.Equal(loopThread, callbackThread);
    }

    [Fact]
    public void Time_TaskDelayAndPeriodicTimer_FollowTheVirtualClock()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true });
        var ticks = new List<TimeSpan>();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            await Task.Delay(TimeSpan.FromHours(2), loop.Time);
            Assert.Equal(TimeSpan.FromHours(2), loop.Now - start);

            using var periodic = new PeriodicTimer(TimeSpan.FromMinutes(10), loop.Time);
            start = loop.Now;
            for (int i = 0; i < 3; i++)
            {
                Assert.True(await periodic.WaitForNextTickAsync());
                ticks.Add(loop.Now - start);
            }
        });

        Assert.Equal([TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30)], ticks);
    }

    [Fact]
    public void Time_RealMode_TaskDelayKeepsTheLoopRunningUntilItFires()
    {
        using var loop = new Loop();
        bool delayed = false;
        loop.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(30), loop.Time);
            delayed = true;
        });

        Assert.True(delayed);
        Assert.NotSame(TimeProvider.System, loop.Time);
    }

    [Fact]
    public void Time_TimerChangedFromAnotherThreadAfterDispose_ReturnsFalse()
    {
        var loop = new Loop();
        ITimer timer = loop.Time.CreateTimer(_ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        loop.Dispose();
        bool changed = true;
        var other = new Thread(() =>
        {
            changed = timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
            timer.Dispose();
        });
        other.Start();
        Assert.True(other.Join(s_bound));
        Assert.False(changed);
    }
}
