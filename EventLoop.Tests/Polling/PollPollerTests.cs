using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

public sealed class PollPollerTests : PollerContractTests
{
    private protected override IPoller CreatePoller() => new PollPoller();

    [Fact]
    public void Properties_DescribePoll()
    {
        Assert.Equal(PollerKind.Poll, Poller.Kind);
        Assert.False(Poller.NativeEdgeTriggered);
        Assert.Equal(-1, Poller.Handle);
    }

    [Fact]
    public void Poll_EdgeTriggeredNewDataWithoutRearm_StaysDisarmed()
    {
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 4);
        TestFds.WriteByte(b);
        Assert.Equal([new ReadyEvent(4, IoEvents.Read)], PollOnce(LivenessMs));

        TestFds.WriteByte(b);

        Assert.Empty(PollOnce(0));
    }

    [Fact]
    public void Poll_EdgeTriggeredBothDirections_DisarmsOnlyTheReportedOne()
    {
        var (a, b) = Pair();
        const PollEvents Interest = PollEvents.Read | PollEvents.Write | PollEvents.EdgeTriggered;
        Poller.Add(a, Interest, 8);
        Assert.Equal([new ReadyEvent(8, IoEvents.Write)], PollOnce(LivenessMs));

        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(8, IoEvents.Read)], PollOnce(LivenessMs));
        Assert.Empty(PollOnce(0));
    }

    [Fact]
    public void Remove_MiddleEntry_KeepsTheOthersWithTheirTokens()
    {
        var (a1, _) = Pair();
        var (a2, _) = Pair();
        var (a3, _) = Pair();
        Poller.Add(a1, PollEvents.Write, 1);
        Poller.Add(a2, PollEvents.Write, 2);
        Poller.Add(a3, PollEvents.Write, 3);

        Poller.Remove(a1);
        Poller.Modify(a3, PollEvents.Write, 33);

        ReadyEvent[] events = PollOnce(LivenessMs);
        Assert.Equal(
            [new ReadyEvent(2, IoEvents.Write), new ReadyEvent(33, IoEvents.Write)],
            events.OrderBy(e => e.Token));
    }
}
