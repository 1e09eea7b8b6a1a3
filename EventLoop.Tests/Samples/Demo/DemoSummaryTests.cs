using EventLoop.Samples.Demo;

namespace EventLoop.Tests.Samples.Demo;

public sealed class DemoSummaryTests
{
    [Fact]
    public void Format_AllOk_HasARowPerPartAndSaysSo()
    {
        DemoResult[] results =
        [
            new("sync-vs-async", true, "9 blocking tasks 4.50 s", TimeSpan.FromSeconds(5)),
            new("echo", true, "20000 echoes", TimeSpan.FromSeconds(1.25)),
        ];

        string[] lines = DemoSummary.Format(results).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(5, lines.Length);
        Assert.Equal("part           result  elapsed    detail", lines[0]);
        Assert.Equal("sync-vs-async  ok         5.00 s  9 blocking tasks 4.50 s", lines[2]);
        Assert.Equal("echo           ok         1.25 s  20000 echoes", lines[3]);
        Assert.Equal("all 2 parts succeeded", lines[4]);
        Assert.True(DemoSummary.AllSucceeded(results));
    }

    [Fact]
    public void Format_AFailure_IsMarkedAndCounted()
    {
        DemoResult[] results =
        [
            new("fetch", false, "timed out", TimeSpan.FromSeconds(30)),
            new("cache", true, "ok", TimeSpan.Zero),
        ];

        string table = DemoSummary.Format(results);

        Assert.Contains("fetch  FAILED    30.00 s  timed out", table, StringComparison.Ordinal);
        Assert.EndsWith("1 of 2 parts FAILED\n", table, StringComparison.Ordinal);
        Assert.False(DemoSummary.AllSucceeded(results));
    }

    [Fact]
    public void AllSucceeded_NoParts_IsFalse()
    {
        Assert.False(DemoSummary.AllSucceeded([]));
    }
}
