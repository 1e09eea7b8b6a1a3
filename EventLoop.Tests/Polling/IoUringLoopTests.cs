using EventLoop.Polling;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Polling;

/// <summary>
/// A whole loop on the io_uring back end, in every pass of the suite (the io_uring pass also runs
/// everything else on it). Each test returns at once where the probe fails: xunit 2 has no dynamic
/// skip, and the refusal itself is covered with fake probe results in <see cref="IoUringSupportTests"/>.
/// </summary>
public sealed class IoUringLoopTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(10);

    [Fact]
    public void Register_ReadableSocket_CallbackUntilDrainedThenQuiet()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return;
        }

        using var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        using var pair = new SocketPair();
        int calls = 0;
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, events) =>
        {
            Assert.Equal(IoEvents.Read, events);
            calls++;
        });
        pair.Right.Send("ab"u8);

        Assert.True(SpinUntil(loop, () => calls >= 1));
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(calls >= 2, "level-triggered: reported again while data is pending");

        byte[] buffer = new byte[16];
        Assert.Equal(2, pair.Left.Receive(buffer));
        loop.RunOnce(TimeSpan.Zero);
        int settled = calls;
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(settled, calls);
    }

    [Fact]
    public void Post_FromAnotherThread_WakesABlockedRun()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return;
        }

        using var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        bool ran = false;
        TimerHandle watchdog = loop.CallLater(s_liveness, loop.Stop);
        var poster = new Thread(() => loop.Post(() =>
        {
            ran = true;
            loop.Stop();
        }));

        loop.Post(poster.Start);
        loop.Run();
        watchdog.Cancel();
        poster.Join();

        Assert.True(ran);
    }

    [Fact]
    public void Run_OnAnotherThreadAfterTheCreatingThreadExited_StillReportsReadiness()
    {
        // Completions of a poll request are delivered through the thread that submitted it: the
        // ring must keep working when that thread has exited and another one runs the loop.
        if (!IoUringProbe.Current.IsAvailable)
        {
            return;
        }

        using var pair = new SocketPair();
        Loop? loop = null;
        IoRegistration? registration = null;
        int calls = 0;
        var creator = new Thread(() =>
        {
            loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
            Loop created = loop;
            registration = loop.Register(pair.Left, IoEvents.Read, (_, _) =>
            {
                calls++;
                created.Stop();
            });
            loop.RunOnce(TimeSpan.Zero); // submits the poll requests on this thread
        });
        creator.Start();
        creator.Join();

        var runner = new Thread(() =>
        {
            TimerHandle watchdog = loop!.CallLater(s_liveness, loop.Stop);
            pair.Right.Send("x"u8);
            loop.Run();
            watchdog.Cancel();
            registration!.Dispose();
            loop.Dispose();
        });
        runner.Start();
        runner.Join();

        Assert.Equal(1, calls);
    }

    private static bool SpinUntil(Loop loop, Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + s_liveness;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }

        return true;
    }
}
