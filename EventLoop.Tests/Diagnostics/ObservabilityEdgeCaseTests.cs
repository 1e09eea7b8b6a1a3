using System.Diagnostics;
using System.Runtime.CompilerServices;
using EventLoop.Net;
using EventLoop.Tests.Net;

namespace EventLoop.Tests.Diagnostics;

/// <summary>Corners of the metrics, the greenlet dump and the watchdog that an operator takes for granted.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ObservabilityEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void Dispose_LoopMeasuredByAListener_IsCollectable_AndNoLongerReported()
    {
        using var recorder = new MetricRecorder("edge-collectable");
        WeakReference loop = RunMeasuredLoopAndDispose(recorder);
        int before = recorder.Values("eventloop.greenlets.live").Count;

        for (int i = 0; i < 3 && loop.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(loop.IsAlive, "a disposed loop is kept alive");
        recorder.Observe("eventloop.greenlets.live", allowNone: true);
        Assert.Equal(before, recorder.Values("eventloop.greenlets.live").Count);
    }

    [Fact]
    public void Utilization_LoopThatNeverRan_ReadsIdle()
    {
        using var loop = new Loop(new LoopOptions { Name = "edge-never-ran" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization");
        WaitWallClock(TimeSpan.FromMilliseconds(50));

        Assert.Equal(0, recorder.Observe("eventloop.loop.utilization"));
    }

    [Fact]
    public void Utilization_TimeWhileNoThreadRunsTheLoop_ReadsIdle()
    {
        using var loop = new Loop(new LoopOptions { Name = "edge-between-runs" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization");
        loop.RunOnce(TimeSpan.Zero);
        recorder.Observe("eventloop.loop.utilization"); // starts the window

        WaitWallClock(TimeSpan.FromMilliseconds(200)); // the loop is not running: nothing holds it
        loop.RunOnce(TimeSpan.Zero);

        Assert.InRange(recorder.Observe("eventloop.loop.utilization"), 0.0, 0.5);
    }

    [Fact]
    public void Utilization_FirstReadingInsideACallbackAfterUntimedIdle_ReportsNothing_ThenTheTimedWindow()
    {
        using var loop = new Loop(new LoopOptions { Name = "edge-listener-mid-callback" });
        MetricRecorder? recorder = null;
        double first = 0;
        double second = 0;
        try
        {
            loop.Run(async () =>
            {
                // Idle in polls that nobody times: no listener wants utilization yet.
                await loop.Sleep(TimeSpan.FromMilliseconds(200));

                // A listener attaches while the loop is busy: how the time before was spent is
                // unknown, so the first reading starts the window and reports nothing.
                recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization");
                first = recorder.Observe("eventloop.loop.utilization", allowNone: true);
                await loop.Sleep(TimeSpan.FromMilliseconds(200)); // timed idle
                second = recorder.Observe("eventloop.loop.utilization");
            });
        }
        finally
        {
            recorder?.Dispose();
        }

        Assert.True(double.IsNaN(first), $"the first reading reported {first}");
        Assert.InRange(second, 0.0, 0.5);
    }

    [Fact]
    public void Delay_TimeWhileNoThreadRunsTheLoop_IsNotRecordedAsLateness()
    {
        using var loop = new Loop(new LoopOptions { Name = "edge-delay-between-runs" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.delay");
        loop.Run(async () => await loop.Sleep(TimeSpan.FromMilliseconds(50))); // the probe is armed

        WaitWallClock(TimeSpan.FromMilliseconds(1000)); // nobody runs the loop: no work of it is late
        loop.Run(async () => await loop.Sleep(TimeSpan.FromMilliseconds(50)));

        IReadOnlyList<double> delays = recorder.Values("eventloop.loop.delay");
        Assert.NotEmpty(delays);
        Assert.True(delays.Max() < 500, $"largest delay {delays.Max()} ms");
    }

    [Fact]
    public void ObservableCounters_TwoLoopsWithTheSameName_OneMeasurementOfTheirSum()
    {
        using var a = new Loop(new LoopOptions { VirtualTime = true, Name = "edge-twins" });
        using var b = new Loop(new LoopOptions { VirtualTime = true, Name = "edge-twins" });
        using var recorder = new MetricRecorder("edge-twins", "eventloop.greenlets.live");
        a.Spawn(() => Task.CompletedTask);
        b.Spawn(() => Task.CompletedTask);
        b.Spawn(() => Task.CompletedTask);

        recorder.Observe("eventloop.greenlets.live");

        Assert.Equal([3.0], recorder.Values("eventloop.greenlets.live"));
        a.RunOnce(TimeSpan.Zero);
        b.RunOnce(TimeSpan.Zero);
    }

    [Fact]
    public void ObservableCounters_AfterCancelsKillsADetachedBodyAndDispose()
    {
        using var recorder = new MetricRecorder("edge-counts", "eventloop.greenlets.live", "eventloop.timers.pending", "eventloop.registrations");
        var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "edge-counts" });
        using var pair = new Core.SocketPair();
        TimerHandle[] timers = [.. Enumerable.Range(0, 100).Select(i => loop.CallLater(TimeSpan.FromSeconds(i + 1), static () => { }))];
        Greenlet sleeper = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
        var never = new TaskCompletionSource();
        Greenlet detached = loop.Spawn(() => never.Task); // killed, its body is detached
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, static (_, _) => { });
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(101, recorder.Observe("eventloop.timers.pending"));

        foreach (TimerHandle t in timers)
        {
            t.Cancel();
        }

        Assert.Equal(1, recorder.Observe("eventloop.timers.pending")); // the sleeper's
        Assert.Equal(2, recorder.Observe("eventloop.greenlets.live"));
        sleeper.Kill();
        detached.Kill();
        loop.RunOnce(TimeSpan.Zero); // the killed greenlet unwinds
        Assert.Equal(0, recorder.Observe("eventloop.timers.pending"));
        Assert.Equal(0, recorder.Observe("eventloop.greenlets.live"));
        Assert.Equal(1, recorder.Observe("eventloop.registrations"));

        loop.Dispose();
        registration.Dispose();
        int count = recorder.Values("eventloop.registrations").Count;
        recorder.Observe("eventloop.registrations", allowNone: true);
        Assert.Equal(count, recorder.Values("eventloop.registrations").Count);
    }

    [Fact]
    public void NetActive_ServerOfADisposedLoop_IsNoLongerReported()
    {
        var loop = new Loop(new LoopOptions { Name = "edge-net-disposed" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.net.connections.active");
        var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct));
        LoopNet.Run(loop, async () =>
        {
            server.Start();
            await server.StopAsync(TimeSpan.FromSeconds(5));
        });
        Assert.Equal(0, recorder.Observe("eventloop.net.connections.active"));
        loop.Dispose();
        int count = recorder.Values("eventloop.net.connections.active").Count;

        recorder.Observe("eventloop.net.connections.active", allowNone: true);

        Assert.Equal(count, recorder.Values("eventloop.net.connections.active").Count);
        GC.KeepAlive(server);
    }

    [Fact]
    public void DumpGreenlets_NamesWithLineBreaksAndControlCharacters_OneLinePerGreenlet()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "edge\ndump" });
        Greenlet a = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
        a.Name = "evil\r\nname\u2028\u0007";
        Greenlet b = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
        b.Name = "plain";
        loop.RunOnce(TimeSpan.Zero);
        using var writer = new StringWriter();

        loop.DumpGreenlets(writer);

        string[] lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.DoesNotContain(l, c => char.IsControl(c) || c is '\u2028' or '\u2029'));
        Assert.Contains("plain", lines[2], StringComparison.Ordinal);
        loop.Dispose();
    }

    [Fact]
    public void DumpGreenlets_TenThousandGreenlets_OrphansOfAFinishedParentStillShow()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "edge-many" });
        Greenlet parent = loop.Spawn(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            }

            return Task.CompletedTask;
        });
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        using var writer = new StringWriter();

        loop.DumpGreenlets(writer);

        Assert.True(parent.IsCompleted);
        string[] lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10_001, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.EndsWith($"(parent #{parent.Id} finished)", l, StringComparison.Ordinal));
    }

    [Fact]
    public void GetGreenlets_DuringDispose_FromAKilledGreenletsFinally_ListsTheDying()
    {
        var loop = new Loop(new LoopOptions { VirtualTime = true });
        IReadOnlyList<GreenletInfo>? seen = null;
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            finally
            {
                seen = loop.GetGreenlets();
            }
        });
        loop.RunOnce(TimeSpan.Zero);

        loop.Dispose();

        Assert.NotNull(seen);
        Assert.Contains(seen, i => i.Id == g.Id);
        Assert.Throws<ObjectDisposedException>(() => loop.GetGreenlets());
    }

    [Fact]
    public void Constructor_BadOptionWithAWatchdog_LeavesNoMonitorThreadBehind()
    {
        WeakReference handlerState = CreateLoopThatThrows();

        for (int i = 0; i < 3 && handlerState.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(handlerState.IsAlive, "a monitor thread outlived the loop that failed to construct");
    }

    [Fact]
    public void Reports_NamesWithLineBreaks_StayOneLine_AsTheDumpDoes()
    {
        using var loop = new Loop(new LoopOptions { Name = "edge\nloop", VirtualTime = true });
        Greenlet g = loop.Spawn(() => Task.CompletedTask);
        g.Name = "two\r\nlines\u2028";
        var blocked = new BlockedLoopInfo(loop, g, "Body\n()", TimeSpan.FromSeconds(1), false);
        var slow = new SlowCallbackInfo(TimeSpan.FromSeconds(1), g, "Body\n()");
        var slowPlain = new SlowCallbackInfo(TimeSpan.FromSeconds(1), null, "Callback\t()");

        foreach (string report in new[] { blocked.ToString(), (blocked with { Released = true }).ToString(), slow.ToString(), slowPlain.ToString() })
        {
            Assert.DoesNotContain('\n', report);
            Assert.DoesNotContain('\r', report);
            Assert.DoesNotContain('\u2028', report);
            Assert.DoesNotContain('\t', report);
        }

        Assert.Contains("'edge\\nloop'", blocked.ToString(), StringComparison.Ordinal);
        loop.JoinAll([g]);
    }

    [Fact]
    public void Watchdog_LoopDroppedWithoutDispose_IsCollected()
    {
        // The monitor thread looks at its loop through a weak reference, so a loop dropped without
        // Dispose is collected like one without a watchdog (and the thread ends at its next look).
        WeakReference loop = CreateWatchedLoopAndDropIt();

        for (int i = 0; i < 3 && loop.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(loop.IsAlive, "the monitor thread kept an undisposed loop alive");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateWatchedLoopAndDropIt()
    {
        var loop = new Loop(new LoopOptions { BlockedLoopThreshold = TimeSpan.FromMilliseconds(50), BlockedLoop = static _ => { } });
        loop.RunOnce(TimeSpan.Zero);
        return new WeakReference(loop);
    }

    [Fact]
    public void Watchdog_SlowHandler_HoldsNeitherTheLoopNorDispose()
    {
        using var inHandler = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        int reports = 0;
        var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(50),
            BlockedLoop = info =>
            {
                Interlocked.Increment(ref reports);
                inHandler.Set();
                letGo.Wait(s_liveness);
            },
        });
        loop.Post(() => inHandler.Wait(s_liveness));
        loop.RunOnce(TimeSpan.Zero); // returns while the handler still runs
        loop.Post(static () => { });
        loop.RunOnce(TimeSpan.Zero);

        loop.Dispose();
        letGo.Set();

        Assert.True(Volatile.Read(ref reports) >= 1);
    }

    [Fact]
    public void SlowCallback_ReadinessCallbackAndPlainPost_AreReported()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { SlowCallbackThreshold = TimeSpan.FromMilliseconds(1), SlowCallback = reports.Add });
        using var pair = new Core.SocketPair();
        pair.Right.Send(new byte[1]);
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (r, _) =>
        {
            WaitWallClock(TimeSpan.FromMilliseconds(20));
            r.Dispose();
        });
        loop.Post(() => WaitWallClock(TimeSpan.FromMilliseconds(20)));
        while (loop.RunOnce(TimeSpan.FromSeconds(1)))
        {
        }

        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.Null(r.Greenlet));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RunMeasuredLoopAndDispose(MetricRecorder recorder)
    {
        var loop = new Loop(new LoopOptions { Name = "edge-collectable" });
        loop.Run(async () =>
        {
            Greenlet child = loop.Spawn(() => loop.Sleep(TimeSpan.FromMilliseconds(30)).AsTask());
            loop.CallLater(TimeSpan.FromHours(1), static () => { });
            recorder.Observe("eventloop.greenlets.live");
            recorder.Observe("eventloop.loop.utilization");
            await child;
        });
        Greenlet sleeper = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
        loop.RunOnce(TimeSpan.Zero);
        recorder.Observe("eventloop.greenlets.live");
        loop.Dispose();
        GC.KeepAlive(sleeper);
        return new WeakReference(loop);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateLoopThatThrows()
    {
        object state = new();
        var options = new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(50),
            BlockedLoop = _ => GC.KeepAlive(state),
            SpinBeforePoll = TimeSpan.FromMilliseconds(-1),
        };
        Assert.Throws<ArgumentOutOfRangeException>(() => new Loop(options));
        return new WeakReference(state);
    }

    /// <summary>Lets wall time pass (the quantity measured), on the calling thread.</summary>
    private static void WaitWallClock(TimeSpan span)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < span)
        {
            Thread.Sleep(1);
        }
    }
}
