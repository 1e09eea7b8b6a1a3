using System.Diagnostics;
using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

/// <summary>
/// The behaviour every <see cref="IPoller"/> shares. Derived classes pick the back end; each
/// test owns its descriptors and the fixture closes them all.
/// </summary>
public abstract class PollerContractTests : IDisposable
{
    // Generous liveness bound for waits that should complete at once: never a speed assertion.
    protected const int LivenessMs = 5000;

    private readonly List<int> _fds = [];
    private readonly ReadyEvent[] _ready = new ReadyEvent[64];

    protected PollerContractTests()
    {
        Poller = CreatePoller();
    }

    internal IPoller Poller { get; }

    public void Dispose()
    {
        Poller.Dispose();
        foreach (int fd in _fds)
        {
            TestFds.Close(fd);
        }

        GC.SuppressFinalize(this);
    }

    // private protected: IPoller is internal to the assembly under test.
    private protected abstract IPoller CreatePoller();

    [Fact]
    public void Poll_ReadableSocket_ReportsTokenWithRead()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read, 7);
        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(7, IoEvents.Read)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_WritableSocket_ReportsWrite()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Write, 3);

        Assert.Equal([new ReadyEvent(3, IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_ReadAndWriteInterestBothReady_ReportsBothInOneEvent()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.Write, 4);
        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(4, IoEvents.Read | IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_NothingReadyZeroTimeout_ReturnsZero()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Read, 1);

        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Poll_NothingRegistered_ReturnsZero()
    {
        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Poll_NothingReady_WaitsRoughlyTheTimeout()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Read, 1);

        var watch = Stopwatch.StartNew();
        int count = Poller.Poll(_ready, 50);
        watch.Stop();

        Assert.Equal(0, count);
        Assert.InRange(watch.ElapsedMilliseconds, 40, LivenessMs);
    }

    [Fact]
    public void Poll_EmptyBuffer_Throws()
    {
        Assert.Throws<ArgumentException>(() => Poller.Poll([], 0));
    }

    [Fact]
    public void Add_AlreadyRegistered_ThrowsInvalidOperation()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Read, 1);

        Assert.Throws<InvalidOperationException>(() => Poller.Add(a, PollEvents.Write, 2));
    }

    [Fact]
    public void Modify_NotRegistered_ThrowsInvalidOperation()
    {
        var (a, _) = Pair();

        Assert.Throws<InvalidOperationException>(() => Poller.Modify(a, PollEvents.Read, 1));
    }

    [Fact]
    public void Modify_NewInterestAndToken_ReportsOnlyTheNewDirection()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read, 1);
        Assert.Equal(0, Poller.Poll(_ready, 0));

        Poller.Modify(a, PollEvents.Write, 2);
        Assert.Equal([new ReadyEvent(2, IoEvents.Write)], PollOnce(LivenessMs));

        Poller.Modify(a, PollEvents.Read, 3);
        Assert.Equal(0, Poller.Poll(_ready, 0));
        TestFds.WriteByte(b);
        Assert.Equal([new ReadyEvent(3, IoEvents.Read)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Remove_Registered_StopsReports()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.Write, 1);
        TestFds.WriteByte(b);

        Poller.Remove(a);

        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Remove_ThenAddAgain_Reports()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Write, 1);
        Poller.Remove(a);
        Poller.Add(a, PollEvents.Write, 2);

        Assert.Equal([new ReadyEvent(2, IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Remove_ClosedDescriptor_DoesNotThrow()
    {
        var (a, b) = TestFds.SocketPair();
        _fds.Add(b);
        Poller.Add(a, PollEvents.Read, 1);
        TestFds.Close(a);

        Poller.Remove(a);

        TestFds.Close(b);
        _fds.Remove(b);
    }

    [Fact]
    public void Remove_NeverRegistered_DoesNotThrow()
    {
        var (a, _) = Pair();

        Poller.Remove(a);
    }

    [Fact]
    public void Poll_PeerClosed_ReportsReadAndWrite()
    {
        var (a, b) = TestFds.SocketPair();
        _fds.Add(a);
        Poller.Add(a, PollEvents.Read, 5);

        TestFds.Close(b);

        Assert.Equal([new ReadyEvent(5, IoEvents.Read | IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_PipeWriterClosed_ReportsReadAndWrite()
    {
        var (r, w) = TestFds.Pipe();
        _fds.Add(r);
        Poller.Add(r, PollEvents.Read, 6);

        TestFds.Close(w);

        Assert.Equal([new ReadyEvent(6, IoEvents.Read | IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_NoInterestAndPeerClosed_NotReportedUntilInterestReturns()
    {
        var (a, b) = TestFds.SocketPair();
        _fds.Add(a);
        Poller.Add(a, PollEvents.None, 1);
        TestFds.Close(b);

        Assert.Equal(0, Poller.Poll(_ready, 0));
        Assert.Equal(0, Poller.Poll(_ready, 0));

        Poller.Modify(a, PollEvents.Read, 2);
        Assert.Equal([new ReadyEvent(2, IoEvents.Read | IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_LevelTriggeredUndrained_ReportedAgain()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read, 1);
        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(1, IoEvents.Read)], PollOnce(LivenessMs));
        Assert.Equal([new ReadyEvent(1, IoEvents.Read)], PollOnce(0));

        TestFds.Drain(a);
        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Poll_EdgeTriggered_ReportedOnceUntilDrainedRearmedAndNewData()
    {
        var (a, b) = Pair();
        const PollEvents Interest = PollEvents.Read | PollEvents.EdgeTriggered;
        Poller.Add(a, Interest, 9);
        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(9, IoEvents.Read)], PollOnce(LivenessMs));
        Assert.Equal(0, Poller.Poll(_ready, 0));

        // Core's protocol on both back ends: drain, then re-arm.
        Assert.Equal(1, TestFds.Drain(a));
        Poller.Modify(a, Interest, 9);
        Assert.Equal(0, Poller.Poll(_ready, 0));

        TestFds.WriteByte(b);
        Assert.Equal([new ReadyEvent(9, IoEvents.Read)], PollOnce(LivenessMs));
        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Poll_EdgeTriggeredRearmedWhileStillReady_ReportsAgain()
    {
        var (a, b) = Pair();
        const PollEvents Interest = PollEvents.Read | PollEvents.EdgeTriggered;
        Poller.Add(a, Interest, 2);
        TestFds.WriteByte(b);
        Assert.Equal([new ReadyEvent(2, IoEvents.Read)], PollOnce(LivenessMs));

        // Re-arming without draining must not lose the pending data.
        Poller.Modify(a, Interest, 2);

        Assert.Equal([new ReadyEvent(2, IoEvents.Read)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Poll_ManyDescriptorsSmallBuffer_EachReportedOnceWithItsToken()
    {
        const int Count = 200;
        const int TokenBase = 1000;
        var readers = new int[Count];
        for (int i = 0; i < Count; i++)
        {
            var (a, b) = Pair();
            readers[i] = a;
            Poller.Add(a, PollEvents.Read, TokenBase + i);
            TestFds.WriteByte(b, (byte)i);
        }

        var small = new ReadyEvent[16];
        var seen = new HashSet<int>();
        for (int call = 0; call < Count && seen.Count < Count; call++)
        {
            int n = Poller.Poll(small, LivenessMs);
            Assert.InRange(n, 1, small.Length);
            foreach (ReadyEvent e in small.AsSpan(0, n))
            {
                Assert.Equal(IoEvents.Read, e.Events);
                Assert.True(seen.Add(e.Token), $"token {e.Token} reported twice");
                int index = e.Token - TokenBase;
                Assert.InRange(index, 0, Count - 1);
                // The token must lead to the descriptor that really has the data.
                Assert.Equal(1, TestFds.Drain(readers[index]));
            }
        }

        Assert.Equal(Count, seen.Count);
        Assert.Equal(0, Poller.Poll(_ready, 0));
    }

    [Fact]
    public void Poll_ManyReadyUndrainedSmallBuffer_LaterDescriptorsNotStarved()
    {
        const int Count = 40;
        for (int i = 0; i < Count; i++)
        {
            var (a, b) = Pair();
            Poller.Add(a, PollEvents.Read, i);
            TestFds.WriteByte(b);
        }

        var small = new ReadyEvent[8];
        var seen = new HashSet<int>();
        for (int call = 0; call < Count; call++)
        {
            int n = Poller.Poll(small, LivenessMs);
            foreach (ReadyEvent e in small.AsSpan(0, n))
            {
                seen.Add(e.Token);
            }
        }

        Assert.Equal(Count, seen.Count);
    }

    [Fact]
    public void Dispose_Twice_DoesNotThrow()
    {
        IPoller poller = CreatePoller();
        poller.Dispose();
        poller.Dispose();
    }

    protected (int A, int B) Pair()
    {
        var (a, b) = TestFds.SocketPair();
        _fds.Add(a);
        _fds.Add(b);
        return (a, b);
    }

    private protected ReadyEvent[] PollOnce(int timeoutMs)
    {
        int n = Poller.Poll(_ready, timeoutMs);
        return _ready.AsSpan(0, n).ToArray();
    }
}
