using Microsoft.Extensions.Time.Testing;

namespace EventLoop.Tests.Core;

/// <summary>
/// Corner cases of loop timers and of <see cref="Loop.Time"/> and the <see cref="ITimer"/>s it
/// creates, as users of .NET's TimeProvider and of libuv's timers take them for granted.
/// </summary>
public sealed class TimeEdgeCaseTests
{
    // Runs until no work remains; RunOnce(Infinite) on an empty loop would wait for a post forever.
    private static void RunUntilIdle(Loop loop)
    {
        if (!loop.RunOnce(TimeSpan.Zero))
        {
            return;
        }

        for (int i = 0; i < 10_000 && loop.RunOnce(Timeout.InfiniteTimeSpan); i++)
        {
        }
    }

    [Fact]
    public void ITimer_Change_BehavesAsSystemTimer()
    {
        using Loop loop = LoopAssert.Virtual();
        var fired = new List<TimeSpan>();
        ITimer timer = loop.Time.CreateTimer(_ => fired.Add(loop.Now), null, Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(1));
        Assert.False(loop.RunOnce(TimeSpan.Zero)); // an infinite due time disables it, whatever the period
        Assert.True(timer.Change(TimeSpan.FromSeconds(2), TimeSpan.Zero)); // a zero period: one shot
        RunUntilIdle(loop);
        Assert.Equal([TimeSpan.FromSeconds(2)], fired);

        Assert.True(timer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        timer.Dispose();
        timer.Dispose();
        Assert.True(timer.DisposeAsync().IsCompletedSuccessfully);
        Assert.False(timer.Change(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        RunUntilIdle(loop);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], fired);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void ITimer_OutOfRangeTimes_ThrowLikeSystemTimer()
    {
        using Loop loop = LoopAssert.Virtual();
        TimeSpan negative = TimeSpan.FromMilliseconds(-2);
        TimeSpan tooLong = TimeSpan.FromMilliseconds(0xFFFFFFFFL);
        using ITimer timer = loop.Time.CreateTimer(_ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // A negative time used to fire at once and TimeSpan.MaxValue to be accepted; a
        // System.Threading.Timer (TimeProvider.System) refuses both.
        Assert.Throws<ArgumentOutOfRangeException>("dueTime", () => timer.Change(negative, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>("period", () => timer.Change(TimeSpan.Zero, negative));
        Assert.Throws<ArgumentOutOfRangeException>("dueTime", () => timer.Change(tooLong, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>("dueTime", () => timer.Change(TimeSpan.MaxValue, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>("dueTime", () => loop.Time.CreateTimer(_ => { }, null, negative, Timeout.InfiniteTimeSpan));
        LoopAssert.NoLiveHandles(loop); // the refused calls armed nothing
        Assert.True(timer.Change(TimeSpan.FromMilliseconds(0xFFFFFFFEL), Timeout.InfiniteTimeSpan));
        Assert.Equal(1, loop.Statistics.TimersPending);
        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void ITimer_ChangeFromAnotherThreadOvertakenByALaterChange_LaterChangeWins()
    {
        using Loop loop = LoopAssert.Virtual();
        var fired = new List<TimeSpan>();
        ITimer? timer = null;

        // Created (so armed for 10 s) on a thread that may not touch the loop: that Change is posted.
        var thread = new Thread(() => timer = loop.Time.CreateTimer(_ => fired.Add(loop.Now), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan));
        thread.Start();
        thread.Join();

        // The owner's Change comes later and is applied at once; the posted one must not undo it.
        Assert.True(timer!.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
        RunUntilIdle(loop);
        Assert.Equal([TimeSpan.FromSeconds(1)], fired);
        timer.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void EqualDeadlines_CallLaterAndLoopTimeTimers_FireInSchedulingOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        loop.CallLater(TimeSpan.FromSeconds(1), () => order.Add("a"));
        using ITimer timer = loop.Time.CreateTimer(_ => order.Add("b"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1));
            order.Add("c");
        });
        loop.CallLater(TimeSpan.FromSeconds(1), () => order.Add("d"));
        loop.CallLater(TimeSpan.FromMilliseconds(500), () => order.Add("first"));
        RunUntilIdle(loop);
        Assert.Equal(["first", "a", "b", "d", "c"], order); // the sleeper's continuation runs after the callbacks queued before it resumed
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void DueCallback_SchedulesAZeroDelayTimer_ItWaitsForTheNextIteration()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        loop.CallLater(TimeSpan.FromSeconds(1), () =>
        {
            order.Add("a");
            loop.CallLater(TimeSpan.Zero, () => order.Add("zero"));
        });
        loop.CallLater(TimeSpan.FromSeconds(1), () => order.Add("b"));
        Assert.True(loop.RunOnce(Timeout.InfiniteTimeSpan));
        Assert.Equal(["a", "b"], order);
        Assert.False(loop.RunOnce(TimeSpan.Zero));
        Assert.Equal(["a", "b", "zero"], order);
        Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
    }

    [Fact]
    public void PeriodicTimer_ConsumerLate_MissedTicksCoalesce_GridKept()
    {
        using Loop loop = LoopAssert.Virtual();
        List<TimeSpan> ticks = loop.Run(async () =>
        {
            var seen = new List<TimeSpan>();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), loop.Time);
            Assert.True(await timer.WaitForNextTickAsync());
            seen.Add(loop.Now);
            await loop.Sleep(TimeSpan.FromSeconds(2.5)); // ticks at 2 s and 3 s happen meanwhile
            Assert.True(await timer.WaitForNextTickAsync());
            seen.Add(loop.Now);
            Assert.True(await timer.WaitForNextTickAsync());
            seen.Add(loop.Now);
            return seen;
        });

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(4)], ticks);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void CancellationTokenSource_CancelAfter_MovesOrRemovesTheLoopDeadline()
    {
        using Loop loop = LoopAssert.Virtual();
        TimeSpan at = loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), loop.Time);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.Sleep(TimeSpan.FromHours(1), cts.Token).AsTask());
            return loop.Now;
        });
        Assert.Equal(TimeSpan.FromSeconds(2), at);

        bool cancelled = loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), loop.Time);
            cts.CancelAfter(Timeout.InfiniteTimeSpan);
            Assert.Equal(0, loop.Statistics.TimersPending);
            await loop.Sleep(TimeSpan.FromHours(1));
            return cts.IsCancellationRequested;
        });
        Assert.False(cancelled);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void TaskDelay_OnLoopTime_CancelledByToken_LeavesNoTimer()
    {
        using Loop loop = LoopAssert.Virtual();
        loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task delay = Task.Delay(TimeSpan.FromHours(1), loop.Time, cts.Token);
            Assert.Equal(1, loop.Statistics.TimersPending);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delay);
        });

        Assert.Equal(TimeSpan.Zero, loop.Now); // the cancelled delay did not make the clock jump
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void VirtualClock_TimestampUtcNowAndNow_AgreeAfterAJump()
    {
        var epoch = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using Loop loop = new(new LoopOptions { VirtualTime = true, TimeProvider = new FakeTimeProvider(epoch) });
        long start = loop.Time.GetTimestamp();
        Assert.Equal(epoch, loop.Time.GetUtcNow());
        loop.Run(() => loop.Sleep(TimeSpan.FromMinutes(90)).AsTask());

        TimeSpan slept = TimeSpan.FromMinutes(90);
        Assert.Equal(slept, loop.Time.GetElapsedTime(start));
        Assert.Equal(epoch + slept, loop.Time.GetUtcNow());
        Assert.Equal(slept, loop.Now);
        Assert.Equal((long)(slept.TotalSeconds * loop.Time.TimestampFrequency), loop.Time.GetTimestamp() - start);
    }

    [Fact]
    public void RunOnce_ReportsWorkLeft_ForTimersRegistrationsAndNothing()
    {
        using Loop loop = LoopAssert.Virtual();
        Assert.False(loop.RunOnce(TimeSpan.Zero));
        using var pair = new SocketPair();
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        Assert.True(loop.RunOnce(TimeSpan.Zero));
        registration.Dispose();
        Assert.False(loop.RunOnce(TimeSpan.Zero));

        TimerHandle never = loop.CallLater(TimeSpan.MaxValue, () => { });
        loop.CallLater(TimeSpan.FromSeconds(1), () => { });
        Assert.True(loop.RunOnce(TimeSpan.Zero)); // pending, not due: a zero timeout never moves virtual time
        Assert.True(loop.RunOnce(TimeSpan.MaxValue));
        Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
        Assert.True(loop.RunOnce(TimeSpan.FromDays(1))); // the saturated timer keeps it alive and never fires
        Assert.Equal(TimeSpan.FromSeconds(1) + TimeSpan.FromDays(1), loop.Now);
        never.Cancel();
        Assert.False(loop.RunOnce(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.RunOnce(TimeSpan.MinValue));
        LoopAssert.NoLiveHandles(loop);
    }
}
