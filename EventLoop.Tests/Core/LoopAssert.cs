namespace EventLoop.Tests.Core;

/// <summary>Shared checks: every test ends with a loop that holds nothing.</summary>
internal static class LoopAssert
{
    public static void NoLiveHandles(Loop loop)
    {
        LoopStatistics stats = loop.Statistics;
        Assert.Equal(0, stats.TimersPending);
        Assert.Equal(0, stats.Registrations);
        Assert.Equal(0, stats.LiveGreenlets);
    }

    public static Loop Virtual() => new(new LoopOptions { VirtualTime = true });
}
