namespace EventLoop.Tests.Core;

public sealed class VirtualTimeTests
{
    [Fact]
    public void Sleep_OneHour_CompletesAtOnceOnVirtualClock()
    {
        using Loop loop = LoopAssert.Virtual();
        var wall = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan slept = loop.Run(async () =>
        {
            long start = loop.Time.GetTimestamp();
            await loop.Sleep(TimeSpan.FromHours(1));
            return loop.Time.GetElapsedTime(start);
        });

        Assert.Equal(TimeSpan.FromHours(1), slept);
        Assert.True(wall.Elapsed < TimeSpan.FromMinutes(1)); // liveness only
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void TaskDelay_WithLoopTime_RunsOnLoopTimers()
    {
        using Loop loop = LoopAssert.Virtual();
        TimeSpan elapsed = loop.Run(async () =>
        {
            long start = loop.Time.GetTimestamp();
            await Task.Delay(TimeSpan.FromMinutes(10), loop.Time);
            return loop.Time.GetElapsedTime(start);
        });

        Assert.Equal(TimeSpan.FromMinutes(10), elapsed);
    }

    [Fact]
    public void CancellationTokenSource_WithLoopTime_CancelsOnVirtualDeadline()
    {
        using Loop loop = LoopAssert.Virtual();
        TimeSpan elapsed = loop.Run(async () =>
        {
            long start = loop.Time.GetTimestamp();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30), loop.Time);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.Sleep(TimeSpan.FromHours(5), cts.Token).AsTask());
            return loop.Time.GetElapsedTime(start);
        });

        Assert.Equal(TimeSpan.FromSeconds(30), elapsed);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void PeriodicTimer_WithLoopTime_TicksOnVirtualClock()
    {
        using Loop loop = LoopAssert.Virtual();
        List<TimeSpan> ticks = loop.Run(async () =>
        {
            var seen = new List<TimeSpan>();
            long start = loop.Time.GetTimestamp();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), loop.Time);
            for (int i = 0; i < 3; i++)
            {
                await timer.WaitForNextTickAsync();
                seen.Add(loop.Time.GetElapsedTime(start));
            }

            return seen;
        });

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], ticks);
    }

    [Fact]
    public void RunOnce_CallerTimeout_BoundsTheJump()
    {
        using Loop loop = LoopAssert.Virtual();
        bool fired = false;
        loop.CallLater(TimeSpan.FromHours(1), () => fired = true);
        loop.RunOnce(TimeSpan.FromMinutes(10));
        Assert.False(fired);
        Assert.Equal(TimeSpan.FromMinutes(10), loop.Time.GetElapsedTime(0));
        loop.RunOnce(TimeSpan.FromHours(2));
        Assert.True(fired);
        Assert.Equal(TimeSpan.FromHours(1), loop.Time.GetElapsedTime(0));
    }

    [Fact]
    public void ManySleepers_WakeInDeadlineOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<int>();
        var greenlets = Enumerable.Range(0, 50).Reverse().Select(i => loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(i));
            order.Add(i);
        })).ToList();

        loop.JoinAll(greenlets, raiseError: true);
        Assert.Equal(Enumerable.Range(0, 50), order);
        LoopAssert.NoLiveHandles(loop);
    }
}
