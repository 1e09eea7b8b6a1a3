using System.Diagnostics;
using EventLoop.Tests.Extending;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Core;

public sealed class SlowCallbackTests
{
    private static readonly TimeSpan s_threshold = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void SlowGreenletStep_AfterALoopWait_NamesTheAsyncMethod()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, SlowCallbackThreshold = s_threshold, SlowCallback = reports.Add });
        Greenlet g = loop.Spawn(() => HoldAfterSleep(loop));

        loop.JoinAll([g]);

        SlowCallbackInfo report = Assert.Single(reports, r => r.Callback.Contains(nameof(HoldAfterSleep), StringComparison.Ordinal));
        Assert.Same(g, report.Greenlet);
        Assert.True(report.Duration >= s_threshold);
    }

    [Fact]
    public void SlowGreenletStep_AfterATaskAwait_NamesTheAsyncMethod()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, SlowCallbackThreshold = s_threshold, SlowCallback = reports.Add });
        Greenlet g = loop.Spawn(() => HoldAfterTask(loop));

        loop.JoinAll([g]);

        SlowCallbackInfo report = Assert.Single(reports, r => r.Callback.Contains(nameof(HoldAfterTask), StringComparison.Ordinal));
        Assert.Same(g, report.Greenlet);
    }

    [Fact]
    public void SlowPlainCallback_NamesTheDelegatesMethod()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, SlowCallbackThreshold = s_threshold, SlowCallback = reports.Add });
        loop.Post(Hold);
        loop.Post(loop.Stop);

        loop.Run();

        SlowCallbackInfo report = Assert.Single(reports, r => r.Callback.Contains(nameof(Hold), StringComparison.Ordinal));
        Assert.Null(report.Greenlet);
        Assert.Equal($"{nameof(SlowCallbackTests)}.{nameof(Hold)}", report.Callback);
    }

    [Fact]
    public void SlowReadinessHandler_InThePollPhase_IsReportedNamingTheHandler()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { SlowCallbackThreshold = s_threshold, SlowCallback = reports.Add });
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new HoldingHandler();
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            TestPipe.Write(write, "a"u8);

            loop.RunOnce(TimeSpan.FromSeconds(30)); // liveness bound: the byte is already there

            Assert.Equal(1, handler.Calls);
            SlowCallbackInfo report = Assert.Single(reports);
            Assert.Equal(nameof(HoldingHandler), report.Callback);
            Assert.Null(report.Greenlet);
            Assert.True(report.Duration >= s_threshold);
        }
    }

    [Fact]
    public void SlowBeforePollHook_IsReportedNamingTheDelegatesMethod_AFastOneIsNot()
    {
        var reports = new List<SlowCallbackInfo>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, SlowCallbackThreshold = s_threshold, SlowCallback = reports.Add });
        using IDisposable slow = loop.OnBeforePoll(Hold);
        using IDisposable fast = loop.OnBeforePoll(static () => { });

        loop.RunOnce(TimeSpan.Zero);

        SlowCallbackInfo report = Assert.Single(reports);
        Assert.Equal($"{nameof(SlowCallbackTests)}.{nameof(Hold)}", report.Callback);
        Assert.Null(report.Greenlet);
    }

    private static async Task HoldAfterSleep(Loop loop)
    {
        await loop.Sleep(TimeSpan.FromSeconds(1));
        Hold();
    }

    private static async Task HoldAfterTask(Loop loop)
    {
        var ready = new TaskCompletionSource();
        loop.Post(ready.SetResult);
        await ready.Task;
        Hold();
    }

    /// <summary>A readiness handler that holds the loop thread past the threshold.</summary>
    private sealed class HoldingHandler : IReadinessHandler
    {
        public int Calls { get; private set; }

        public void OnReady(ReadinessWatch watch, IoEvents events)
        {
            Calls++;
            Hold();
        }

        public void OnLoopDisposed(ReadinessWatch watch)
        {
        }
    }

    /// <summary>Holds the loop thread past the threshold (a busy step, the thing the report is for).</summary>
    private static void Hold()
    {
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) <= s_threshold * 2)
        {
            Thread.SpinWait(10);
        }
    }
}
