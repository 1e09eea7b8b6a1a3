using EventLoop.Samples.SyncVsAsync;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples.SyncVsAsync;

public sealed class SyncVsAsyncDemoTests
{
    [Fact]
    public void RunAsync_PrintsNineSequentialThenTenConcurrentTasks()
    {
        using var loop = new Loop();
        var output = new StringWriter();

        SyncVsAsyncResult result = loop.Run(() => SyncVsAsyncDemo.RunAsync(loop, output, TimeSpan.FromMilliseconds(1)));

        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        string[] expected =
        [
            "Synchronous:",
            .. Enumerable.Range(1, 9).Select(i => $"Task {i} done"),
            lines[10],
            "Asynchronous:",
            .. Enumerable.Range(0, 10).Select(i => $"Task {i} done"),
            lines[22],
        ];
        Assert.Equal(expected, lines);
        Assert.StartsWith("Synchronous: ", lines[10], StringComparison.Ordinal);
        Assert.StartsWith("Asynchronous: ", lines[22], StringComparison.Ordinal);
        Assert.True(result.Synchronous >= TimeSpan.FromMilliseconds(9), "nine blocking sleeps cannot take less than their sum");
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void RunAsync_NegativeDuration_Throws()
    {
        using var loop = new Loop();

        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Run(() => SyncVsAsyncDemo.RunAsync(loop, TextWriter.Null, TimeSpan.FromSeconds(-1))));
    }
}
