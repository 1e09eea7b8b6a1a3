using EventLoop.Samples.Demo;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples;

/// <summary>Each demo part with small parameters, and the whole run.</summary>
public sealed class DemoRunnerTests
{
    private static DemoResult RunPart(Func<Loop, TextWriter, Task<DemoResult>> part, out string output)
    {
        using var loop = new Loop();
        var writer = new StringWriter();
        DemoResult result = loop.Run(() => part(loop, writer));
        output = writer.ToString();
        LoopAssert.NoLiveHandles(loop);
        return result;
    }

    [Fact]
    public void SyncVsAsync_AllTasksRun()
    {
        DemoResult result = RunPart((loop, output) => DemoRunner.RunSyncVsAsyncAsync(loop, output, TimeSpan.FromMilliseconds(1)), out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("sync-vs-async", result.Part);
        Assert.Contains("Task 9 done", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Fetch_OwnServer_Succeeds()
    {
        DemoResult result = RunPart(DemoRunner.RunFetchAsync, out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("bytes received from", StringComparison.Ordinal)));
    }

    [Fact]
    public void FetchCommand_UrlsOfItsOwnServerOneByHostName_ExitsZeroAndReceivesEveryPage()
    {
        DemoResult result = RunPart(DemoRunner.RunFetchCommandAsync, out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("fetch URL...", result.Part);
        Assert.Equal(4, output.Split('\n').Count(l => l.Contains("bytes received from", StringComparison.Ordinal)));
        Assert.Contains("bytes received from http://localhost:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Echo_SmallRun_Succeeds()
    {
        DemoResult result = RunPart((loop, output) => DemoRunner.RunEchoAsync(loop, output, requests: 200, connections: 20), out _);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains("200 echoes over 20 connections", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Selectors_FewClients_Succeeds()
    {
        DemoResult result = RunPart((loop, output) => DemoRunner.RunSelectorsAsync(loop, output, clients: 2, messages: 3), out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("closing ", StringComparison.Ordinal)));
        Assert.Equal(6, output.Split('\n').Count(l => l.StartsWith("echoing ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Cache_RoundTrip_Succeeds()
    {
        DemoResult result = RunPart((loop, output) => DemoRunner.RunCacheAsync(loop, output, TimeSpan.FromMilliseconds(20)), out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains("> GET demo:greeting  ->  (nil)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Cache_LoopSlowerThanTheTtl_KeyGoneByPttl_StillSucceeds()
    {
        // A busy loop (here a greenlet that holds it 30 ms per step, as a loaded machine would) lets
        // the 20 ms TTL pass between PEXPIRE and PTTL: -2 is then the right answer, not a failure.
        DemoResult result = RunPart(
            async (loop, output) =>
            {
                bool done = false;
                Greenlet hog = loop.Spawn(async () =>
                {
                    while (!done)
                    {
                        var held = System.Diagnostics.Stopwatch.StartNew();
                        while (held.Elapsed < TimeSpan.FromMilliseconds(30))
                        {
                        }

                        await loop.Yield();
                    }
                });
                DemoResult part = await DemoRunner.RunCacheAsync(loop, output, TimeSpan.FromMilliseconds(20));
                done = true;
                await hog;
                return part;
            },
            out string output);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains("> PTTL demo:greeting  ->  (integer) -2", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAll_SmallSettings_EveryPartSucceedsAndTheTableIsPrinted()
    {
        using var loop = new Loop();
        var output = new StringWriter();
        var settings = new DemoSettings
        {
            TaskDuration = TimeSpan.FromMilliseconds(1),
            EchoRequests = 100,
            EchoConnections = 10,
            CacheTtl = TimeSpan.FromMilliseconds(20),
        };

        IReadOnlyList<DemoResult> results = loop.Run(() => DemoRunner.RunAllAsync(loop, output, settings));

        Assert.Equal(["sync-vs-async", "fetch", "fetch URL...", "echo", "selectors-echo", "cache"], results.Select(r => r.Part));
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Part}: {r.Detail}"));
        Assert.EndsWith("all 6 parts succeeded" + Environment.NewLine, output.ToString().Replace("\n", Environment.NewLine, StringComparison.Ordinal), StringComparison.Ordinal);
        LoopAssert.NoLiveHandles(loop);
    }
}
