using System.ComponentModel;
using System.Runtime.InteropServices;
using EventLoop.Interop;
using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

public sealed class EpollPollerTests : NativeEdgeTriggeredPollerTests
{
    private protected override IPoller CreatePoller() => new EpollPoller();

    [Fact]
    public void Properties_DescribeEpoll()
    {
        Assert.Equal(PollerKind.Epoll, Poller.Kind);
        Assert.True(Poller.NativeEdgeTriggered);
        Assert.True(Poller.Handle >= 0);
    }

    [Fact]
    public void Handle_EventsPending_BecomesReadable()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read, 1);
        Assert.False(TestFds.IsReadable(Poller.Handle, 0));

        TestFds.WriteByte(b);

        Assert.True(TestFds.IsReadable(Poller.Handle, LivenessMs));
    }

    [Fact]
    public void Poll_BufferLargerThanInitialCapacity_ReportsAllReadyAcrossCalls()
    {
        const int Count = 150;
        for (int i = 0; i < Count; i++)
        {
            var (a, _) = Pair();
            Poller.Add(a, PollEvents.Write, i);
        }

        var big = new ReadyEvent[512];
        var seen = new HashSet<int>();
        for (int call = 0; call < 10 && seen.Count < Count; call++)
        {
            int n = Poller.Poll(big, LivenessMs);
            foreach (ReadyEvent e in big.AsSpan(0, n))
            {
                seen.Add(e.Token);
            }
        }

        Assert.Equal(Count, seen.Count);
    }

    [Fact]
    public void Add_RegularFile_ThrowsWin32ExceptionNamingTheCall()
    {
        // epoll refuses regular files and /dev/null with EPERM: they are always ready.
        using var file = File.OpenHandle("/dev/null");
        int fd = (int)file.DangerousGetHandle();

        var ex = Assert.Throws<Win32Exception>(() => Poller.Add(fd, PollEvents.Read, 1));

        Assert.Equal(Libc.EPERM, ex.NativeErrorCode);
        Assert.Contains("epoll_ctl(EPOLL_CTL_ADD", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public unsafe void EpollEventLayout_MatchesTheKernelAbi()
    {
        Assert.Equal(12, sizeof(Libc.EpollEventPacked));
        Assert.Equal(16, sizeof(Libc.EpollEventAligned));
        int expected = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;
        Assert.Equal(expected, Libc.EpollEventSize);
    }
}
