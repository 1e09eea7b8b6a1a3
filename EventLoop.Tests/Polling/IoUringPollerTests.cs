using System.Runtime.InteropServices;
using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

public sealed class IoUringPollerTests : NativeEdgeTriggeredPollerTests
{
    private protected override IPoller CreatePoller() => new IoUringPoller();

    [Fact]
    public void Properties_DescribeIoUring()
    {
        Assert.Equal(PollerKind.IoUring, Poller.Kind);
        Assert.True(Poller.NativeEdgeTriggered);
        Assert.Equal(-1, Poller.Handle);
    }

    [Fact]
    public void Poll_EdgeTriggeredBothDirections_WriteReportedOnceThenReadAlone()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.Write | PollEvents.EdgeTriggered, 8);
        Assert.Equal([new ReadyEvent(8, IoEvents.Write)], PollOnce(LivenessMs));
        Assert.Empty(PollOnce(0));

        TestFds.WriteByte(b);

        // The report carries the direction whose wake-up it is, not everything that is ready.
        Assert.Equal([new ReadyEvent(8, IoEvents.Read)], PollOnce(LivenessMs));
        Assert.Empty(PollOnce(0));
    }

    [Fact]
    public void Modify_QueuedAndNotYetSubmitted_OnlyTheNewInterestIsReported()
    {
        var (a, _) = Pair();
        Poller.Add(a, PollEvents.Read, 1);
        Poller.Modify(a, PollEvents.Write, 2);
        Poller.Modify(a, PollEvents.Read | PollEvents.Write, 3);

        Assert.Equal([new ReadyEvent(3, IoEvents.Write)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Remove_LiveRequestThenClose_PeerSeesEndOfFileWithoutAnotherPoll()
    {
        // A poll request holds the file: Remove must release it before the owner's close, or the
        // peer would not see the close until the next Poll.
        var (a, b) = TestFds.SocketPair();
        Poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 1);
        Assert.Equal(0, Poller.Poll(new ReadyEvent[4], 0));

        Poller.Remove(a);
        CloseAndAssertPeerSeesEndOfFile(a, b);
    }

    [Fact]
    public void Dispose_WithLiveRequests_PeerSeesEndOfFileAfterClose()
    {
        var (a, b) = TestFds.SocketPair();
        IPoller poller = CreatePoller();
        poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 1);
        Assert.Equal(0, poller.Poll(new ReadyEvent[4], 0));

        poller.Dispose();
        CloseAndAssertPeerSeesEndOfFile(a, b);
    }

    [Fact]
    public void Poll_RepeatedReportsOfOneDescriptor_MergedIntoOneEvent()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 6);
        Assert.Empty(PollOnce(0));

        // Two wake-ups before the next Poll: two completions, one event.
        TestFds.WriteByte(b);
        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(6, IoEvents.Read)], PollOnce(LivenessMs));
    }

    [Fact]
    public void Add_AfterPreviousOwnerClosedWithoutPoll_PollsTheNewDescriptor()
    {
        // Add queues a request; the descriptor is removed and closed before any Poll submits it,
        // and its number is reused. The queued request must not poll the new file as the old one.
        var (a, b) = TestFds.SocketPair();
        Poller.Add(a, PollEvents.Read, 1);
        Poller.Remove(a);
        TestFds.Close(a);
        TestFds.Close(b);

        var (c, d) = Pair();
        Poller.Add(c, PollEvents.Write, 2);

        Assert.Equal([new ReadyEvent(2, IoEvents.Write)], PollOnce(LivenessMs));
        _ = d;
    }

    [Fact]
    public void PollAddModifyRemove_AllocateNothingOnceWarm()
    {
        var (a, b) = Pair();
        var (c, d) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 1);
        var ready = new ReadyEvent[8];

        // Counted, not asserted inside: xunit's Assert.Equal allocates.
        int mismatches = 0;
        void Expect(int expected, int actual) => mismatches += expected == actual ? 0 : 1;

        void Cycle()
        {
            TestFds.WriteByte(b);
            Expect(1, Poller.Poll(ready, LivenessMs));
            Expect(1, TestFds.Drain(a));
            Poller.Add(c, PollEvents.Read, 2);
            TestFds.WriteByte(d);
            Expect(1, Poller.Poll(ready, LivenessMs));
            Expect(1, Poller.Poll(ready, 0)); // level: re-armed and still ready
            Expect(1, TestFds.Drain(c));
            Poller.Modify(c, PollEvents.Write, 3);
            Poller.Remove(c);
        }

        for (int i = 0; i < 100; i++)
        {
            Cycle();
        }

        long allocated = AllocationWindows.Quietest(3, () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                Cycle();
            }
        });
        Assert.Equal(0, mismatches);
        Assert.True(allocated < 1024, $"{allocated} bytes for 1000 cycles");
    }

    [Fact]
    public unsafe void InteropLayout_MatchesTheKernelAbi()
    {
        Assert.Equal(120, sizeof(IoUringInterop.Params));
        Assert.Equal(40, sizeof(IoUringInterop.SqRingOffsets));
        Assert.Equal(40, sizeof(IoUringInterop.CqRingOffsets));
        Assert.Equal(64, sizeof(IoUringInterop.Sqe));
        Assert.Equal(16, sizeof(IoUringInterop.Cqe));
        Assert.Equal(24, sizeof(IoUringInterop.GetEventsArg));
        Assert.Equal(16, sizeof(IoUringInterop.ProbeHeader));
        Assert.Equal(8, sizeof(IoUringInterop.ProbeOp));
        Assert.Equal(40, (int)Marshal.OffsetOf<IoUringInterop.Params>(nameof(IoUringInterop.Params.SqOff)));
        Assert.Equal(80, (int)Marshal.OffsetOf<IoUringInterop.Params>(nameof(IoUringInterop.Params.CqOff)));
        Assert.Equal(28, (int)Marshal.OffsetOf<IoUringInterop.Sqe>(nameof(IoUringInterop.Sqe.OpFlags)));
        Assert.Equal(32, (int)Marshal.OffsetOf<IoUringInterop.Sqe>(nameof(IoUringInterop.Sqe.UserData)));
    }

    // Closes a; b must see end of file at once, which it cannot while a poll request holds a's file.
    private static void CloseAndAssertPeerSeesEndOfFile(int a, int b)
    {
        TestFds.Close(a);
        try
        {
            Assert.True(TestFds.IsReadable(b, LivenessMs));
            Assert.Equal(0, TestFds.Drain(b));
        }
        finally
        {
            TestFds.Close(b);
        }
    }
}
