using System.Runtime.InteropServices;
using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

public sealed class PollerFactoryTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void ParseOverride_Unset_ReturnsNull(string? value)
    {
        Assert.Null(PollerFactory.ParseOverride(value));
    }

    [Theory]
    [InlineData("poll", PollerKind.Poll)]
    [InlineData("POLL", PollerKind.Poll)]
    [InlineData(" Poll ", PollerKind.Poll)]
    [InlineData("epoll", PollerKind.Epoll)]
    [InlineData("EPoll", PollerKind.Epoll)]
    public void ParseOverride_KnownValue_ReturnsKind(string value, PollerKind expected)
    {
        Assert.Equal(expected, PollerFactory.ParseOverride(value));
    }

    [Theory]
    [InlineData("kqueue")]
    [InlineData("auto")]
    [InlineData("select")]
    public void ParseOverride_UnknownValue_ThrowsNamingTheVariable(string value)
    {
        var ex = Assert.Throws<ArgumentException>(() => PollerFactory.ParseOverride(value));
        Assert.Contains("EVENTLOOP_POLLER", ex.Message, StringComparison.Ordinal);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AutoOnLinux_PicksEpoll()
    {
        Assert.Equal(PollerKind.Epoll, PollerFactory.Resolve(PollerKind.Auto, null, OSPlatform.Linux));
    }

    [Fact]
    public void Resolve_AutoOnOtherUnix_PicksPoll()
    {
        Assert.Equal(PollerKind.Poll, PollerFactory.Resolve(PollerKind.Auto, null, OSPlatform.OSX));
        Assert.Equal(PollerKind.Poll, PollerFactory.Resolve(PollerKind.Auto, null, OSPlatform.FreeBSD));
    }

    [Fact]
    public void Resolve_AutoWithOverride_UsesTheOverride()
    {
        Assert.Equal(PollerKind.Poll, PollerFactory.Resolve(PollerKind.Auto, "poll", OSPlatform.Linux));
        Assert.Equal(PollerKind.Epoll, PollerFactory.Resolve(PollerKind.Auto, "epoll", OSPlatform.Linux));
    }

    [Fact]
    public void Resolve_ExplicitKind_IgnoresTheEnvironment()
    {
        Assert.Equal(PollerKind.Poll, PollerFactory.Resolve(PollerKind.Poll, "epoll", OSPlatform.Linux));
        Assert.Equal(PollerKind.Epoll, PollerFactory.Resolve(PollerKind.Epoll, "bogus", OSPlatform.Linux));
    }

    [Fact]
    public void Resolve_AutoWithBadOverride_Throws()
    {
        Assert.Throws<ArgumentException>(() => PollerFactory.Resolve(PollerKind.Auto, "bogus", OSPlatform.Linux));
    }

    [Fact]
    public void Resolve_EpollOffLinux_ThrowsPlatformNotSupported()
    {
        Assert.Throws<PlatformNotSupportedException>(() => PollerFactory.Resolve(PollerKind.Epoll, null, OSPlatform.OSX));
        Assert.Throws<PlatformNotSupportedException>(() => PollerFactory.Resolve(PollerKind.Auto, "epoll", OSPlatform.FreeBSD));
    }

    [Theory]
    [InlineData(PollerKind.Auto)]
    [InlineData(PollerKind.Poll)]
    [InlineData(PollerKind.Epoll)]
    public void Resolve_Windows_ThrowsPlatformNotSupported(PollerKind kind)
    {
        Assert.Throws<PlatformNotSupportedException>(() => PollerFactory.Resolve(kind, null, OSPlatform.Windows));
    }

    [Fact]
    public void Resolve_UndefinedKind_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PollerFactory.Resolve((PollerKind)42, null, OSPlatform.Linux));
    }

    [Theory]
    [InlineData(PollerKind.Poll)]
    [InlineData(PollerKind.Epoll)]
    public void Create_ExplicitKind_ReturnsThatBackEndAndAMatchingWaker(PollerKind kind)
    {
        if (kind == PollerKind.Epoll && !OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only; xunit 2 has no dynamic skip.
        }

        using IPoller poller = PollerFactory.Create(kind);
        using IWaker waker = PollerFactory.CreateWaker(poller.Kind);

        Assert.Equal(kind, poller.Kind);
        Assert.IsType(kind == PollerKind.Epoll ? typeof(EventFdWaker) : typeof(PipeWaker), waker);
    }

    [Fact]
    public void CreateWaker_Unresolved_Throws()
    {
        Assert.Throws<ArgumentException>(() => PollerFactory.CreateWaker(PollerKind.Auto));
    }
}
