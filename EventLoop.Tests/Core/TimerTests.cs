namespace EventLoop.Tests.Core;

public sealed class TimerTests
{
    [Fact]
    public void CallLater_EqualDeadlines_FireInSchedulingOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            int n = i;
            loop.CallLater(TimeSpan.FromMilliseconds(5), () => order.Add(n));
        }

        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.Equal(Enumerable.Range(0, 20), order);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void CallLater_DifferentDeadlines_FireInDeadlineOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<int>();
        int[] delays = [30, 10, 50, 20, 40, 0];
        foreach (int d in delays)
        {
            loop.CallLater(TimeSpan.FromMilliseconds(d), () => order.Add(d));
        }

        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.Equal([0, 10, 20, 30, 40, 50], order);
    }

    [Fact]
    public void Cancel_ByEarlierCallbackOfSameIteration_TimerDoesNotFire()
    {
        using Loop loop = LoopAssert.Virtual();
        bool secondFired = false;
        TimerHandle? second = null;
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => second!.Cancel());
        second = loop.CallLater(TimeSpan.FromMilliseconds(10), () => secondFired = true);

        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.False(secondFired);
        Assert.True(second.IsCancelled);
    }

    [Fact]
    public void Cancel_BeforeDue_RemovesTimerAtOnce()
    {
        using Loop loop = LoopAssert.Virtual();
        var handles = Enumerable.Range(0, 1000).Select(i => loop.CallLater(TimeSpan.FromSeconds(i + 1), () => { })).ToList();
        Assert.Equal(1000, loop.Statistics.TimersPending);
        handles.ForEach(h => h.Cancel());
        Assert.Equal(0, loop.Statistics.TimersPending);
        handles[0].Cancel(); // idempotent
    }

    [Fact]
    public void CallLater_NegativeDelay_Throws()
    {
        using Loop loop = LoopAssert.Virtual();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.CallLater(TimeSpan.FromMilliseconds(-1), () => { }));
    }

    [Fact]
    public void CallLater_RealClock_NeverFiresEarly()
    {
        using var loop = new Loop();
        TimeSpan delay = TimeSpan.FromMilliseconds(30);
        long start = loop.Time.GetTimestamp();
        TimeSpan elapsed = TimeSpan.Zero;
        loop.CallLater(delay, () => elapsed = loop.Time.GetElapsedTime(start));
        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.True(elapsed >= delay, $"fired after {elapsed}");
    }

    [Fact]
    public void CallLater_SubMillisecondDelay_FiresWithoutBusySpinning()
    {
        using var loop = new Loop();
        bool fired = false;
        loop.CallLater(TimeSpan.FromTicks(2000), () => fired = true); // 0.2 ms
        int iterations = 0;
        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
            iterations++;
        }

        Assert.True(fired);
        // A zero poll timeout would spin through thousands of iterations; rounding up to 1 ms needs a couple.
        Assert.True(iterations < 5, $"{iterations} iterations");
    }

    [Fact]
    public void CallbackThrows_GoesToHandler_AndLoopKeepsRunning()
    {
        var errors = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = errors.Add });
        var boom = new InvalidOperationException("boom");
        bool after = false;
        loop.CallLater(TimeSpan.FromMilliseconds(1), () => throw boom);
        loop.CallLater(TimeSpan.FromMilliseconds(2), () => after = true);
        while (loop.RunOnce(Timeout.InfiniteTimeSpan))
        {
        }

        Assert.Same(boom, Assert.Single(errors));
        Assert.True(after);
    }
}
