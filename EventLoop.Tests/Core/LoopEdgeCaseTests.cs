using System.Net.Sockets;

namespace EventLoop.Tests.Core;

/// <summary>Corner cases of running, stopping and timing a loop and of registrations, each once a defect.</summary>
public sealed class LoopEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public void RunOnce_StopDuringIt_IsConsumed_LaterRunOnceBlocksAndVirtualClockStillJumps()
    {
        using Loop loop = LoopAssert.Virtual();
        loop.Post(loop.Stop);
        loop.RunOnce(TimeSpan.Zero);

        // A served Stop must not stay pending: a host would see "work ready" forever (spin).
        Assert.Equal(Timeout.InfiniteTimeSpan, loop.GetPollTimeout());
        bool fired = false;
        loop.CallLater(TimeSpan.FromHours(1), () => fired = true);
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        Assert.True(fired);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void RunMain_Nested_Throws_AndMainNeverRuns()
    {
        using Loop loop = LoopAssert.Virtual();
        bool innerRan = false;
        Exception? error = null;
        loop.Run(async () =>
        {
            error = RunMainRecordingRefusal(loop, () => innerRan = true);
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });

        Assert.IsType<InvalidOperationException>(error);
        Assert.False(innerRan);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void RunMain_FromOtherThreadWhileRunning_Throws_AndMainNeverRuns()
    {
        using Loop loop = LoopAssert.Virtual();
        bool innerRan = false;
        Exception? error = null;
        loop.Run(async () =>
        {
            error = await Task.Run(() => RunMainRecordingRefusal(loop, () => innerRan = true));
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });

        Assert.IsType<InvalidOperationException>(error);
        Assert.False(innerRan);
    }

    [Theory]
    [InlineData(PollerKind.Epoll)]
    [InlineData(PollerKind.Poll)]
    public void Register_SocketClosedWhileRegistered_NumberReusedByNewSocket_NewRegistrationWorks(PollerKind kind)
    {
        using var loop = new Loop(new LoopOptions { Poller = kind });
        var closed = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        int fd = (int)closed.SafeHandle.DangerousGetHandle();
        IoRegistration stale = loop.Register(closed, IoEvents.Read, (_, _) => { });
        closed.Dispose(); // misuse (the docs say unregister first), but the number is free again

        using var fresh = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        fresh.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        fresh.Blocking = false;
        Assert.Equal(fd, (int)fresh.SafeHandle.DangerousGetHandle()); // precondition: the number was reused
        IoRegistration? seen = null;
        var buffer = new byte[16];
        using IoRegistration registration = loop.Register(fresh, IoEvents.Read, (r, _) =>
        {
            seen = r;
            fresh.Receive(buffer);
        });
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SendTo("x"u8, fresh.LocalEndPoint!);
        loop.RunOnce(s_liveness);

        Assert.Same(registration, seen);
        stale.Dispose();
        registration.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void UnhandledException_HandlerThrows_LoopKeepsRunning_EachErrorDeliveredAsThrown()
    {
        var seen = new List<Exception>();
        using var loop = new Loop(new LoopOptions
        {
            VirtualTime = true,
            UnhandledException = ex => { seen.Add(ex); throw new InvalidOperationException("handler"); },
        });
        var a = new InvalidTimeZoneException("a");
        var b = new InvalidTimeZoneException("b");
        loop.Post(() => throw a);
        loop.Spawn(async () => { await loop.Yield(); throw b; });
        bool ran = false;
        loop.CallLater(TimeSpan.FromSeconds(1), () => ran = true);
        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.True(ran);
        Assert.Equal(2, seen.Count);
        Assert.Same(a, seen[0]);
        Assert.Same(b, seen[1]);
    }

    [Fact]
    public void TimerHandle_CancelFromAnotherThreadWhileLoopRuns_Throws_AndAfterDisposeIsANoOp()
    {
        var loop = new Loop();
        Exception? error = null;
        bool cancelledByThread = true;
        TimerHandle? timer = null;
        loop.Run(async () =>
        {
            timer = loop.CallLater(TimeSpan.FromHours(1), () => { });
            await Task.Run(() =>
            {
                try
                {
                    timer.Cancel(); // would race the loop thread on the timer queue
                }
                catch (InvalidOperationException ex)
                {
                    error = ex;
                }

                cancelledByThread = timer.IsCancelled;
            });
        });

        Assert.NotNull(error);
        Assert.False(cancelledByThread);
        loop.Dispose();
        timer!.Cancel(); // after Dispose: no exception
        Assert.True(timer.IsCancelled);
    }

    [Fact]
    public void JoinAllAsync_FromAnotherThread_ThenDispose_CompletesWithTheKilledGreenlets()
    {
        // The join's start is handed to the loop; the loop is disposed before it ever runs it.
        var loop = new Loop();
        Greenlet unstarted = loop.Spawn(() => Task.CompletedTask); // Dispose kills it at once
        Task<IReadOnlyList<Greenlet>>? join = null;
        var joiner = new Thread(() => join = loop.JoinAllAsync([unstarted]));
        joiner.Start();
        Assert.True(joiner.Join(s_liveness));
        loop.Dispose();
        Assert.NotNull(join);

        Assert.True(join.Wait(s_liveness), "the join never completed");
        Assert.Same(unstarted, Assert.Single(join.Result));
        Assert.IsAssignableFrom<OperationCanceledException>(unstarted.Exception);
    }

    [Fact]
    public void JoinAll_FromAnotherThread_TheRunningThreadLeavesRun_TheJoinerStillReturnsAtItsTimeout()
    {
        // "If another thread runs it, it waits": once that thread leaves Run, the loop's timer
        // that ends the join no longer fires, and the joiner must not wait past its timeout.
        using var loop = new Loop();
        var never = new LoopEvent(loop);
        Greenlet stuck = loop.Spawn(async () => await never.WaitAsync());
        var runner = new Thread(() => loop.Run()) { IsBackground = true };
        runner.Start();
        Assert.True(SpinWait.SpinUntil(() => loop.IsRunning, s_liveness));
        IReadOnlyList<Greenlet>? joined = null;
        var joiner = new Thread(() => joined = loop.JoinAll([stuck], TimeSpan.FromMilliseconds(200))) { IsBackground = true };
        joiner.Start();
        Assert.True(SpinWait.SpinUntil(() => (joiner.ThreadState & ThreadState.WaitSleepJoin) != 0, s_liveness));
        loop.Stop(); // the runner leaves Run; the joiner is still waiting
        Assert.True(runner.Join(s_liveness));

        Assert.True(joiner.Join(s_liveness), "the joiner waited for a loop nobody ran");
        Assert.NotNull(joined);
        Assert.Empty(joined);
        Assert.False(stuck.IsCompleted);
        stuck.Kill();
        loop.RunOnce(TimeSpan.Zero);
    }

    [Fact]
    public void VirtualClock_SleepOfTimeSpanMaxValue_CompletesAndTimeStaysReadable()
    {
        using Loop loop = LoopAssert.Virtual();
        loop.Run(async () => await loop.Sleep(TimeSpan.MaxValue));
        Assert.Equal(TimeSpan.MaxValue, loop.Now);
        Assert.Equal(DateTimeOffset.MaxValue, loop.Time.GetUtcNow());
        LoopAssert.NoLiveHandles(loop);
    }

    /// <summary>Calls <c>loop.Run(main)</c> with a main that calls <paramref name="ran"/>; returns what it threw (null if nothing).</summary>
    private static Exception? RunMainRecordingRefusal(Loop loop, Action ran) =>
        Record.Exception(() => loop.Run(() =>
        {
            ran();
            return Task.CompletedTask;
        }));
}
