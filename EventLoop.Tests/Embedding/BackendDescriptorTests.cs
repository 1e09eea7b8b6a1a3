using EventLoop.Polling;
using Microsoft.Extensions.Time.Testing;

namespace EventLoop.Tests.Embedding;

/// <summary>
/// A host that waits on <see cref="Loop.BackendDescriptor"/> alone and calls
/// <c>RunOnce(TimeSpan.Zero)</c> when it is readable misses nothing: timers, queued work and
/// posts from other threads all make the descriptor readable, and it is not readable once the
/// loop has nothing to do (the host does not spin). On the default back end (epoll); on a back
/// end without a descriptor (-1) the host tests have nothing to drive and return at once.
/// </summary>
public sealed class BackendDescriptorTests
{
    // A host that spins wakes thousands of times; one that works wakes about once per event.
    private const int MaxWakeUps = 20;

    // Liveness only, for waits that must end: reached only when the test is already failing.
    private const int LivenessMs = 10_000;

    [Fact]
    public void Timer_HostWaitsOnDescriptorOnly_FiresWithoutSpinning()
    {
        using Loop loop = new();
        if (loop.BackendDescriptor < 0)
        {
            return;
        }

        bool fired = false;
        loop.CallLater(TimeSpan.FromMilliseconds(100), () => fired = true);
        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => fired), "the host waited 10 s on the descriptor and the 100 ms timer never fired");
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
        Assert.True(loop.Now >= TimeSpan.FromMilliseconds(100));
        Assert.False(HostPoll.IsReadable(loop.BackendDescriptor), "nothing is pending, yet the descriptor is readable");
    }

    [Fact]
    public void FarTimer_DescriptorNotReadableUntilItIsDue()
    {
        using Loop loop = new();
        TimerHandle timer = loop.CallLater(TimeSpan.FromMinutes(10), () => { });
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        Assert.False(HostPoll.IsReadable(fd));
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(HostPoll.IsReadable(fd));
        timer.Cancel();
    }

    [Fact]
    public void TimerScheduledEarlierFromACallback_WhileHostWaits_IsHonoured()
    {
        using Loop loop = new();
        TimerHandle far = loop.CallLater(TimeSpan.FromMinutes(10), () => { });
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        loop.RunOnce(TimeSpan.Zero); // the host descriptor now waits for the 10-minute timer
        bool fired = false;
        var poster = new Thread(() => loop.Post(() => loop.CallLater(TimeSpan.FromMilliseconds(100), () => fired = true)));
        poster.Start();
        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => fired), "a timer scheduled earlier than the armed one was missed");
        poster.Join();
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
        far.Cancel();
    }

    [Fact]
    public void TimerScheduledByTheHostBetweenIterations_IsHonoured()
    {
        using Loop loop = new();
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        loop.RunOnce(TimeSpan.Zero);
        bool fired = false;
        loop.CallLater(TimeSpan.FromMilliseconds(50), () => fired = true);
        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => fired));
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
    }

    [Fact]
    public void PostAndSpawnByTheHostBetweenIterations_MakeTheDescriptorReadable()
    {
        using Loop loop = new();
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        loop.RunOnce(TimeSpan.Zero);
        Assert.False(HostPoll.IsReadable(fd));

        bool posted = false;
        loop.Post(() => posted = true);
        Assert.True(HostPoll.IsReadable(fd), "a Post from the host thread between iterations left the descriptor unreadable");
        Assert.True(new DescriptorHost(loop).RunUntil(() => posted));

        Greenlet g = loop.Spawn(() => Task.CompletedTask);
        Assert.True(HostPoll.IsReadable(fd), "a Spawn from the host thread between iterations left the descriptor unreadable");
        var host = new DescriptorHost(loop);
        Assert.True(host.RunUntil(() => g.IsCompleted));
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
        Assert.False(HostPoll.IsReadable(fd), "nothing is pending, yet the descriptor is readable");
    }

    [Fact]
    public void GreenletSleepingThreeTimes_HostWaitsOnDescriptorOnly_Completes()
    {
        using Loop loop = new();
        int woke = 0;
        Greenlet sleeper = loop.Spawn(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(50));
                woke++;
            }
        });
        if (loop.BackendDescriptor < 0)
        {
            return;
        }

        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => sleeper.IsCompleted), $"the greenlet woke {woke} of 3 times");
        Assert.True(sleeper.Succeeded);
        Assert.Equal(3, woke);
        Assert.True(loop.Now >= TimeSpan.FromMilliseconds(150));
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
    }

    [Fact]
    public void PostFromAnotherThread_WakesTheHost_AndIsConsumed()
    {
        using Loop loop = new();
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        bool ran = false;
        var poster = new Thread(() => loop.Post(() => ran = true));
        poster.Start();
        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => ran), "a post from another thread did not make the descriptor readable");
        poster.Join();
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
        Assert.False(HostPoll.IsReadable(fd), "the wake-up was not consumed: the host would spin");
    }

    [Fact]
    public void StopFromAnotherThread_MakesTheDescriptorReadable()
    {
        using Loop loop = new();
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        var stopper = new Thread(loop.Stop);
        stopper.Start();
        stopper.Join();

        Assert.True(HostPoll.IsReadable(fd, LivenessMs));
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(HostPoll.IsReadable(fd));
    }

    [Fact]
    public void WorkQueuedDuringTheReadyPhase_MakesTheDescriptorReadable()
    {
        using Loop loop = new();
        bool second = false;
        loop.Post(() => loop.Post(() => second = true));
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        Assert.True(HostPoll.IsReadable(fd, LivenessMs), "work queued before the host waits must make the descriptor readable");
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(second); // queued during the ready phase: it runs on the next iteration

        Assert.True(HostPoll.IsReadable(fd, LivenessMs), "work left in the run queue must make the descriptor readable");
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(second);
        Assert.False(HostPoll.IsReadable(fd), "nothing is pending, yet the descriptor is readable");
    }

    [Fact]
    public void Yielding_HostWaitsOnDescriptorOnly_EveryStepRuns()
    {
        using Loop loop = new();
        int steps = 0;
        Greenlet yielder = loop.Spawn(async () =>
        {
            for (int i = 0; i < 5; i++)
            {
                await loop.Yield();
                steps++;
            }
        });
        if (loop.BackendDescriptor < 0)
        {
            return;
        }

        var host = new DescriptorHost(loop);

        Assert.True(host.RunUntil(() => yielder.IsCompleted), $"{steps} of 5 steps ran");
        Assert.Equal(5, steps);
        Assert.InRange(host.WakeUps, 1, MaxWakeUps);
    }

    [Fact]
    public void VirtualTime_TimersLeaveTheDescriptorAlone_QueuedWorkDoesNot()
    {
        using Loop loop = new(new LoopOptions { VirtualTime = true });
        bool fired = false;
        loop.CallLater(TimeSpan.FromHours(1), () => fired = true);
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        // A virtual clock moves only when RunOnce is given room: the host decides when it jumps.
        Assert.False(HostPoll.IsReadable(fd));
        loop.RunOnce(TimeSpan.FromHours(2));
        Assert.True(fired);

        bool second = false;
        loop.Post(() => loop.Post(() => second = true));
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(HostPoll.IsReadable(fd, LivenessMs));
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(second);
        Assert.False(HostPoll.IsReadable(fd));
    }

    [Fact]
    public void CustomClockBehindRealTime_TimerFdExpiresFirst_HostIsNotLeftSpinning()
    {
        var clock = new FakeTimeProvider();
        using Loop loop = new(new LoopOptions { TimeProvider = clock });
        bool fired = false;
        loop.CallLater(TimeSpan.FromMilliseconds(400), () => fired = true);
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        // The timerfd follows real time; the loop's clock has not moved, so the timer is not due.
        Assert.True(HostPoll.IsReadable(fd, LivenessMs));
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(fired);
        Assert.False(HostPoll.IsReadable(fd), "an early expiry left the descriptor readable: the host would spin");

        clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.True(HostPoll.IsReadable(fd, LivenessMs));
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(fired);
    }

    [Fact]
    public void PollAndIoUring_HaveNoDescriptor()
    {
        using (Loop poll = new(new LoopOptions { Poller = PollerKind.Poll }))
        {
            Assert.Equal(-1, poll.BackendDescriptor);
            Assert.Null(poll.HostDescriptor);
        }

        if (OperatingSystem.IsLinux() && IoUringProbe.Current.IsAvailable)
        {
            using Loop ring = new(new LoopOptions { Poller = PollerKind.IoUring });
            Assert.Equal(-1, ring.BackendDescriptor);
        }
    }
}
