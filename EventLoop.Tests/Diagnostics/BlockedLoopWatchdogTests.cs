namespace EventLoop.Tests.Diagnostics;

/// <summary>The blocked-loop watchdog reports a held loop while it is held, then when released.</summary>
public sealed class BlockedLoopWatchdogTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void GreenletBlockingTheThread_IsReportedWhileBlocked_ThenOnceWhenReleased()
    {
        var reports = new List<BlockedLoopInfo>();
        using var held = new ManualResetEventSlim();
        using var released = new ManualResetEventSlim();
        var threshold = TimeSpan.FromMilliseconds(200);
        using var loop = new Loop(new LoopOptions
        {
            Name = "watched",
            BlockedLoopThreshold = threshold,
            BlockedLoop = info =>
            {
                lock (reports)
                {
                    reports.Add(info);
                }

                (info.Released ? released : held).Set();
            },
        });

        bool seenWhileBlocked = false;
        Greenlet blocker = loop.Spawn(() =>
        {
            // Holds the loop thread the way Thread.Sleep would, until the watchdog has spoken.
            seenWhileBlocked = held.Wait(s_liveness);
            return Task.CompletedTask;
        });
        blocker.Name = "blocker";
        loop.JoinAll([blocker]);

        Assert.True(seenWhileBlocked, "the watchdog did not report the loop while it was held");
        Assert.True(released.Wait(s_liveness), "no report when the loop was released");
        lock (reports)
        {
            Assert.Equal(2, reports.Count);
            BlockedLoopInfo during = reports[0];
            Assert.False(during.Released);
            Assert.Same(loop, during.Loop);
            Assert.Same(blocker, during.Greenlet);
            Assert.True(during.Duration >= threshold, $"reported after {during.Duration}");
            Assert.Contains("blocker", during.ToString(), StringComparison.Ordinal);
            Assert.Contains("watched", during.ToString(), StringComparison.Ordinal);

            BlockedLoopInfo after = reports[1];
            Assert.True(after.Released);
            Assert.Same(blocker, after.Greenlet);
            Assert.True(after.Duration >= during.Duration);
        }
    }

    [Fact]
    public void HoldEndingRightBeforeDispose_ItsReleaseIsReportedByTheTimeDisposeReturns()
    {
        var reports = new List<BlockedLoopInfo>();
        using var held = new ManualResetEventSlim();
        var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(100),
            BlockedLoop = info =>
            {
                lock (reports)
                {
                    reports.Add(info);
                }

                held.Set();
            },
        });

        loop.Run(async () =>
        {
            await loop.Yield();
            held.Wait(s_liveness); // the last step holds the loop; Run returns right after it
        });
        loop.Dispose();

        lock (reports)
        {
            Assert.Equal([false, true], reports.Select(r => r.Released));
            Assert.Equal("main", reports[1].Greenlet?.Name);
            Assert.Contains("HoldEndingRightBeforeDispose", reports[1].Callback, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PlainCallbackBlockingTheThread_IsReportedWithoutAGreenlet_NamingTheCallback()
    {
        using var held = new ManualResetEventSlim();
        BlockedLoopInfo? first = null;
        using var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(100),
            BlockedLoop = info =>
            {
                if (!info.Released)
                {
                    first = info;
                    held.Set();
                }
            },
        });

        bool seen = false;
        loop.Post(() => seen = held.Wait(s_liveness));
        loop.RunOnce(TimeSpan.Zero);

        Assert.True(seen);
        Assert.NotNull(first);
        Assert.Null(first.Greenlet);
        Assert.Contains(nameof(PlainCallbackBlockingTheThread_IsReportedWithoutAGreenlet_NamingTheCallback), first.Callback, StringComparison.Ordinal);
    }

    [Fact]
    public void LoopIdleInItsPoll_LongerThanTheThreshold_IsNotReported()
    {
        int reports = 0;
        using var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(50),
            BlockedLoop = _ => Interlocked.Increment(ref reports),
        });

        // Waiting in the poll is not holding the loop: four thresholds asleep, many short steps.
        loop.Run(async () =>
        {
            for (int i = 0; i < 4; i++)
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(50));
            }
        });

        Assert.Equal(0, Volatile.Read(ref reports));
    }

    [Fact]
    public void HandlerThatThrows_DoesNotStopTheMonitor()
    {
        int calls = 0;
        using var released = new ManualResetEventSlim();
        using var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(50),
            BlockedLoop = info =>
            {
                Interlocked.Increment(ref calls);
                if (info.Released)
                {
                    released.Set();
                }

                throw new InvalidOperationException("handler failure");
            },
        });

        loop.Post(() => SpinUntil(() => Volatile.Read(ref calls) >= 1));
        loop.RunOnce(TimeSpan.Zero);

        Assert.True(released.Wait(s_liveness));
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    [Fact]
    public void Name_DefaultsToLoopNumber_AndOptionsNameWins()
    {
        using var unnamed = new Loop();
        using var named = new Loop(new LoopOptions { Name = "cache" });

        Assert.StartsWith("loop-", unnamed.Name, StringComparison.Ordinal);
        Assert.True(int.TryParse(unnamed.Name.AsSpan(5), out _));
        Assert.Equal("cache", named.Name);
    }

    private static void SpinUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_liveness;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }
    }
}
