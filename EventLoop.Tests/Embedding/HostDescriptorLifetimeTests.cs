using EventLoop.Polling;

namespace EventLoop.Tests.Embedding;

/// <summary>
/// The host descriptor's timerfd exists only once <see cref="Loop.BackendDescriptor"/> was read,
/// and Dispose closes it. Epoll explicitly: the other back ends have no descriptor.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class HostDescriptorLifetimeTests
{
    private const string TimerFd = "anon_inode:[timerfd]";

    [Fact]
    public void LoopDrivenByRunOnceAlone_CreatesNoTimerFd()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using Loop loop = new(new LoopOptions { Poller = PollerKind.Epoll });
        TimerHandle timer = loop.CallLater(TimeSpan.FromMinutes(1), () => { });
        loop.Post(() => { });
        loop.RunOnce(TimeSpan.Zero);

        Assert.DoesNotContain(before.OpenedSince(DescriptorSnapshot.Take()), fd => fd.EndsWith(TimerFd, StringComparison.Ordinal));
        timer.Cancel();
    }

    [Fact]
    public void ReadingTheDescriptor_CreatesOneTimerFd_DisposeClosesIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        DescriptorSnapshot before = DescriptorSnapshot.Take();
        var loop = new Loop(new LoopOptions { Poller = PollerKind.Epoll });
        loop.CallLater(TimeSpan.FromMinutes(1), () => { });
        int fd = loop.BackendDescriptor;
        Assert.Equal(fd, loop.BackendDescriptor); // reading again creates nothing more
        loop.RunOnce(TimeSpan.Zero);

        Assert.Single(before.OpenedSince(DescriptorSnapshot.Take()), opened => opened.EndsWith(TimerFd, StringComparison.Ordinal));
        loop.Dispose();
        Assert.Equal(-1, loop.BackendDescriptor);
        before.AssertOpenedSince(0);
    }

    [Fact]
    public void HostMode_IterationsWithAnUnchangedDeadline_SetTheTimerOnce()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using Loop loop = new(new LoopOptions { Poller = PollerKind.Epoll });
        TimerHandle timer = loop.CallLater(TimeSpan.FromMinutes(1), () => { });
        _ = loop.BackendDescriptor;
        HostDescriptor host = loop.HostDescriptor!;
        long sets = host.SetCount;
        for (int i = 0; i < 100; i++)
        {
            loop.RunOnce(TimeSpan.Zero);
        }

        Assert.Equal(sets, host.SetCount);
        timer.Cancel();
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(sets + 1, host.SetCount); // disarmed: nothing pending
    }
}
