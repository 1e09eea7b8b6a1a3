using EventLoop.Polling;
using NSubstitute;

namespace EventLoop.Tests.Embedding;

/// <summary>The host descriptor's rule for setting its timerfd, on a real timerfd and a substitute poller.</summary>
public sealed class HostDescriptorTests : IDisposable
{
    private const int LivenessMs = 10_000;

    private readonly IPoller _poller = Substitute.For<IPoller>();
    private readonly HostDescriptor? _host;

    public HostDescriptorTests()
    {
        if (OperatingSystem.IsLinux())
        {
            _host = new HostDescriptor(_poller, token: -2);
        }
    }

    public void Dispose() => _host?.Dispose();

    [Fact]
    public void Create_AddsTheTimerFdToThePoller_Disarmed()
    {
        if (_host is null)
        {
            return;
        }

        _poller.Received(1).Add(_host.Fd, PollEvents.Read, -2);
        Assert.False(_host.NeedsSet(HostDescriptor.Disarmed));
        Assert.False(HostPoll.IsReadable(_host.Fd));
    }

    [Fact]
    public void NeedsSet_TargetUnchanged_False()
    {
        if (_host is null)
        {
            return;
        }

        Assert.True(_host.NeedsSet(5_000));
        _host.Set(5_000, TimeSpan.FromMinutes(1).Ticks);
        Assert.False(_host.NeedsSet(5_000));
        Assert.True(_host.NeedsSet(4_000));
    }

    [Fact]
    public void NeedsSet_ExpiredWhileTheSameDeadlineIsPending_True()
    {
        if (_host is null)
        {
            return;
        }

        // An expiry the loop's clock does not agree with: set again, so the host is not left spinning.
        _host.Set(5_000, TimeSpan.FromMinutes(1).Ticks);
        _host.OnExpired();
        Assert.True(_host.NeedsSet(5_000));
        Assert.False(_host.NeedsSet(5_000)); // the report is consumed
    }

    [Fact]
    public void NeedsSet_ExpiredWhileWorkIsStillQueued_False()
    {
        if (_host is null)
        {
            return;
        }

        _host.Set(HostDescriptor.AtOnce, 0);
        Assert.True(HostPoll.IsReadable(_host.Fd, LivenessMs));
        _host.OnExpired();
        Assert.False(_host.NeedsSet(HostDescriptor.AtOnce));
        Assert.True(HostPoll.IsReadable(_host.Fd)); // readable is the point: work waits
    }

    [Fact]
    public void Set_Disarmed_ClearsAnExpiry()
    {
        if (_host is null)
        {
            return;
        }

        _host.Set(HostDescriptor.AtOnce, 0);
        Assert.True(HostPoll.IsReadable(_host.Fd, LivenessMs));
        _host.Set(HostDescriptor.Disarmed, 0);
        Assert.False(HostPoll.IsReadable(_host.Fd));
    }

    [Fact]
    public void Set_DeadlineAlreadyPassed_ReadableAtOnce()
    {
        if (_host is null)
        {
            return;
        }

        _host.Set(5_000, remainingTicks: -10);
        Assert.True(HostPoll.IsReadable(_host.Fd, LivenessMs));
    }

    [Fact]
    public void Set_FarDeadline_NotReadable()
    {
        if (_host is null)
        {
            return;
        }

        _host.Set(long.MaxValue, remainingTicks: long.MaxValue);
        Assert.False(HostPoll.IsReadable(_host.Fd));
    }

    [Fact]
    public void Dispose_ClosesTheTimerFd()
    {
        if (_host is null)
        {
            return;
        }

        _host.Dispose();
        Assert.Equal(-1, _host.Fd);
        _host.Dispose(); // idempotent
    }
}
