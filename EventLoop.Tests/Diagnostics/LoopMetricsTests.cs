using System.Diagnostics;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Tests.Net;

namespace EventLoop.Tests.Diagnostics;

/// <summary>Each instrument of the EventLoop and EventLoop.Net meters, checked against known work.</summary>
[Collection(MetricsCollection.Name)]
public sealed class LoopMetricsTests
{
    [Fact]
    public void Counters_AfterKnownWork_CountIterationsCallbacksAndSpawns()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "metrics-counters" });
        using var recorder = new MetricRecorder(loop.Name);
        loop.RunOnce(TimeSpan.Zero); // flushes whatever came before the listener
        double iterationsBefore = recorder.Sum("eventloop.loop.iterations");
        double callbacksBefore = recorder.Sum("eventloop.loop.callbacks");

        for (int i = 0; i < 25; i++)
        {
            loop.Post(static () => { });
        }

        loop.RunOnce(TimeSpan.Zero);
        Greenlet[] greenlets = [.. Enumerable.Range(0, 3).Select(_ => loop.Spawn(() => Task.CompletedTask))];
        loop.RunOnce(TimeSpan.Zero);

        Assert.True(greenlets.All(g => g.IsCompleted));
        Assert.Equal(2, recorder.Sum("eventloop.loop.iterations") - iterationsBefore);
        Assert.Equal(28, recorder.Sum("eventloop.loop.callbacks") - callbacksBefore);
        Assert.Equal(3, recorder.Sum("eventloop.greenlets.spawned"));
    }

    [Fact]
    public void ObservableCounters_ReadLiveGreenletsPendingTimersAndRegistrations()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "metrics-observable" });
        using var recorder = new MetricRecorder(loop.Name);
        using var pair = new Core.SocketPair();
        Greenlet a = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(5)).AsTask());
        Greenlet b = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(6)).AsTask());
        loop.CallLater(TimeSpan.FromSeconds(7), static () => { });
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, static (_, _) => { });
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(2, recorder.Observe("eventloop.greenlets.live"));
        Assert.Equal(3, recorder.Observe("eventloop.timers.pending"));
        Assert.Equal(1, recorder.Observe("eventloop.registrations"));

        a.Kill();
        b.Kill();
        registration.Dispose();
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(0, recorder.Observe("eventloop.greenlets.live"));
        Assert.Equal(1, recorder.Observe("eventloop.timers.pending"));
        Assert.Equal(0, recorder.Observe("eventloop.registrations"));
    }

    [Fact]
    public void Utilization_BusyLoopReadsNearOne_IdleLoopReadsNearZero()
    {
        using var loop = new Loop(new LoopOptions { Name = "metrics-utilization" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization");
        recorder.Observe("eventloop.loop.utilization"); // starts the window

        loop.Run(() =>
        {
            Spin(TimeSpan.FromMilliseconds(300)); // holds the loop: all busy
            return Task.CompletedTask;
        });
        double busy = recorder.Observe("eventloop.loop.utilization");

        loop.Run(async () => await loop.Sleep(TimeSpan.FromMilliseconds(300))); // waits in the poll: idle
        double idle = recorder.Observe("eventloop.loop.utilization");

        Assert.InRange(busy, 0.8, 1.0);
        Assert.InRange(idle, 0.0, 0.5);
    }

    [Fact]
    public void Utilization_LoopSpinningBeforeItsPoll_ReadsIdle()
    {
        // The spin waits for work as the poll does: libuv and Node count only time outside the
        // wait for work as busy, and so does the gauge.
        using var loop = new Loop(new LoopOptions { Name = "metrics-utilization-spin", SpinBeforePoll = TimeSpan.FromSeconds(30) });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization");
        recorder.Observe("eventloop.loop.utilization"); // starts the window

        loop.Run(async () => await loop.Sleep(TimeSpan.FromMilliseconds(300))); // spins until the timer is due
        double idle = recorder.Observe("eventloop.loop.utilization");

        Assert.InRange(idle, 0.0, 0.5);
    }

    [Fact]
    public void Utilization_LoopIdleInAPollThatBeganBeforeTheListener_ReadsIdle_AndIsWokenToMeasure()
    {
        using var loop = new Loop(new LoopOptions { Name = "metrics-utilization-idle" });
        using var ran = new ManualResetEventSlim();
        loop.Spawn(async () =>
        {
            loop.Post(ran.Set); // runs in the next iteration, just before the loop blocks
            await loop.Sleep(TimeSpan.FromSeconds(30));
        });
        var thread = new Thread(loop.Run);
        thread.Start();
        bool sawUntimedPoll = false, woken = false;
        for (int attempt = 0; attempt < 10 && !sawUntimedPoll; attempt++)
        {
            Assert.True(ran.Wait(TimeSpan.FromSeconds(20)));
            long iterations = loop.Statistics.Iterations;
            using (var recorder = new MetricRecorder(loop.Name, "eventloop.loop.utilization"))
            {
                // 0 exactly, and a wake-up, when the loop is in a poll that began before the
                // listener. A loop still on its way to the poll when the listener came times that
                // poll instead (no wake-up needed) and reads its busy share: set it going again
                // with no listener and try once more.
                sawUntimedPoll = recorder.Observe("eventloop.loop.utilization") == 0;
                if (sawUntimedPoll)
                {
                    woken = SpinWait.SpinUntil(() => loop.Statistics.Iterations > iterations, TimeSpan.FromSeconds(20));
                }
            }

            ran.Reset();
            loop.Post(ran.Set);
        }

        loop.Post(loop.Stop);
        Assert.True(thread.Join(TimeSpan.FromSeconds(20)));
        Assert.True(sawUntimedPoll, "the loop never read as idle in a poll that began before the listener");
        Assert.True(woken, "the reading did not wake the loop");
    }

    [Fact]
    public void Delay_LoopHeldByACallback_RecordsHowLateTheProbeRan()
    {
        using var loop = new Loop(new LoopOptions { Name = "metrics-delay" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.delay");

        loop.Run(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(60)); // the probe runs on time meanwhile
            Spin(TimeSpan.FromMilliseconds(300)); // then the loop is held
            await loop.Sleep(TimeSpan.FromMilliseconds(60));
        });

        IReadOnlyList<double> delays = recorder.Values("eventloop.loop.delay");
        Assert.True(delays.Count >= 2, $"{delays.Count} probe measurements");
        Assert.True(delays.Max() >= 250, $"largest delay {delays.Max()} ms");
        Assert.True(delays.Min() < 250, $"smallest delay {delays.Min()} ms");
    }

    [Fact]
    public void Delay_ListenedTo_TheProbeKeepsNoLoopAlive()
    {
        using var loop = new Loop(new LoopOptions { Name = "metrics-idle" });
        using var recorder = new MetricRecorder(loop.Name, "eventloop.loop.delay");
        loop.Post(static () => { });

        Assert.False(loop.RunOnce(TimeSpan.Zero)); // the probe is not a timer: no work is left
        Assert.Equal(0, loop.Statistics.TimersPending);
    }

    [Fact]
    public void NetCounters_AcceptedRejectedAndActiveConnections()
    {
        using Loop loop = new(new LoopOptions { Name = "metrics-net" });
        using var recorder = new MetricRecorder(loop.Name);
        double activeWhileHeld = -1;
        LoopNet.Run(loop, async () =>
        {
            await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct)) { MaxConnections = 2 };
            server.Start();
            using StreamConnection first = await loop.ConnectAsync(server.LocalEndPoint);
            using StreamConnection second = await loop.ConnectAsync(server.LocalEndPoint);
            using (StreamConnection third = await loop.ConnectAsync(server.LocalEndPoint))
            {
                await third.ReceiveToEndAsync(); // rejected: closed at once
            }

            while (server.ConnectionCount < 2)
            {
                await loop.Yield();
            }

            activeWhileHeld = recorder.Observe("eventloop.net.connections.active");
        });

        Assert.Equal(2, activeWhileHeld);
        Assert.Equal(2, recorder.Sum("eventloop.net.connections.accepted"));
        Assert.Equal(1, recorder.Sum("eventloop.net.connections.rejected"));
    }

    private static void Spin(TimeSpan span)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < span)
        {
            Thread.SpinWait(100);
        }
    }
}
