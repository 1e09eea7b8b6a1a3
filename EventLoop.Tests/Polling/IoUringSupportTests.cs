using System.Runtime.InteropServices;
using EventLoop.Interop;
using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

/// <summary>The io_uring probe and how the factory acts on it (opt-in, and a clear refusal).</summary>
public sealed class IoUringSupportTests
{
    private static readonly Func<IoUringSupport> s_available = () => IoUringSupport.Available;

    [Theory]
    [InlineData("io_uring")]
    [InlineData("IO_URING")]
    [InlineData(" io_uring ")]
    public void ParseOverride_IoUring_ReturnsIoUring(string value)
    {
        Assert.Equal(PollerKind.IoUring, PollerFactory.ParseOverride(value));
    }

    [Fact]
    public void ParseOverride_UnknownValue_NamesIoUringAmongTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => PollerFactory.ParseOverride("uring"));
        Assert.Contains("'io_uring'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Auto_NeverPicksIoUringNorProbesIt()
    {
        PollerKind kind = PollerFactory.Resolve(
            PollerKind.Auto, null, OSPlatform.Linux, () => throw new InvalidOperationException("probed"));

        Assert.Equal(PollerKind.Epoll, kind);
    }

    [Fact]
    public void Resolve_IoUringAvailable_ReturnsIoUring()
    {
        Assert.Equal(PollerKind.IoUring, PollerFactory.Resolve(PollerKind.IoUring, null, OSPlatform.Linux, s_available));
        Assert.Equal(PollerKind.IoUring, PollerFactory.Resolve(PollerKind.Auto, "io_uring", OSPlatform.Linux, s_available));
    }

    [Fact]
    public void Resolve_IoUringUnavailable_ThrowsPlatformNotSupportedNamingWhy()
    {
        IoUringSupport refused = IoUringProbe.FromSetupError(Libc.EPERM, "2");

        var ex = Assert.Throws<PlatformNotSupportedException>(
            () => PollerFactory.Resolve(PollerKind.IoUring, null, OSPlatform.Linux, () => refused));

        Assert.Contains("io_uring back end is unavailable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/proc/sys/kernel/io_uring_disabled is 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_IoUringRequestedThroughTheEnvironmentButUnavailable_Throws()
    {
        IoUringSupport missing = IoUringProbe.FromSetupError(IoUringInterop.ENOSYS, null);

        var ex = Assert.Throws<PlatformNotSupportedException>(
            () => PollerFactory.Resolve(PollerKind.Auto, "io_uring", OSPlatform.Linux, () => missing));

        Assert.Contains("no io_uring", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_IoUringOffLinux_ThrowsWithoutProbing()
    {
        var ex = Assert.Throws<PlatformNotSupportedException>(
            () => PollerFactory.Resolve(PollerKind.IoUring, null, OSPlatform.OSX, () => throw new InvalidOperationException("probed")));

        Assert.Contains("only on Linux", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSetupError_PermissionDeniedWithSysctlAllowing_BlamesSeccomp()
    {
        IoUringSupport support = IoUringProbe.FromSetupError(Libc.EPERM, "0");

        Assert.False(support.IsAvailable);
        Assert.Contains("seccomp", support.Reason, StringComparison.Ordinal);
        Assert.Contains("errno 1", support.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FromCapabilities_MissingOpcodeAndFeature_NamesThem()
    {
        IoUringSupport support = IoUringProbe.FromCapabilities(
            IoUringInterop.IORING_FEAT_NODROP, op => op != IoUringInterop.IORING_OP_POLL_REMOVE);

        Assert.False(support.IsAvailable);
        Assert.Contains("IORING_OP_POLL_REMOVE", support.Reason, StringComparison.Ordinal);
        Assert.Contains("IORING_FEAT_EXT_ARG", support.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("IORING_OP_POLL_ADD", support.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FromCapabilities_Everything_Available()
    {
        IoUringSupport support = IoUringProbe.FromCapabilities(
            IoUringInterop.IORING_FEAT_NODROP | IoUringInterop.IORING_FEAT_EXT_ARG, _ => true);

        Assert.Equal(IoUringSupport.Available, support);
    }

    [Fact]
    public void CreateWaker_IoUring_IsAnEventFd()
    {
        using IWaker waker = PollerFactory.CreateWaker(PollerKind.IoUring);

        Assert.IsType<EventFdWaker>(waker);
    }

    [Fact]
    public void Loop_WithIoUringOption_UsesItWhenTheProbePasses()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return; // xunit 2 has no dynamic skip; the refusal is covered with fake probe results.
        }

        using var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        int ran = 0;
        loop.Post(() => ran++);
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(PollerKind.IoUring, loop.Poller);
        Assert.Equal(1, ran);
    }
}
