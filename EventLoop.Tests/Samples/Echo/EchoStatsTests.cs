using EventLoop.Samples.Echo;

namespace EventLoop.Tests.Samples.Echo;

public sealed class EchoStatsTests
{
    [Fact]
    public void AllSucceeded_OnlyWhenNoErrorsAndEveryRequestMatched()
    {
        var ok = new EchoStats(10, 10, 0, 2, TimeSpan.FromSeconds(1), TimeSpan.Zero, TimeSpan.Zero, null);

        Assert.True(ok.AllSucceeded);
        Assert.False((ok with { Succeeded = 9, Errors = 1 }).AllSucceeded);
        Assert.False((ok with { Succeeded = 9 }).AllSucceeded);
    }

    [Fact]
    public void ToString_ListsRequestsErrorsElapsedAndPercentiles()
    {
        var stats = new EchoStats(20_000, 19_998, 2, 500, TimeSpan.FromSeconds(1.5), TimeSpan.FromMilliseconds(0.25), TimeSpan.FromMilliseconds(3), "x");

        Assert.Equal("requests: 20000, errors: 2, connections: 500, elapsed: 1.500 s, p50: 0.250 ms, p99: 3.000 ms", stats.ToString());
    }
}
