using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

/// <summary>
/// What a back end with native edge triggering (epoll's EPOLLET, io_uring's multishot poll) adds
/// to the contract: an edge registration stays armed, so new data is reported again without a
/// re-arm. The poll(2) back end emulates edges one-shot and is not held to this.
/// </summary>
public abstract class NativeEdgeTriggeredPollerTests : PollerContractTests
{
    [Fact]
    public void Poll_EdgeTriggeredNewDataWithoutRearm_ReportedAgain()
    {
        Assert.True(Poller.NativeEdgeTriggered);
        var (a, b) = Pair();
        Poller.Add(a, PollEvents.Read | PollEvents.EdgeTriggered, 4);
        TestFds.WriteByte(b);
        Assert.Equal([new ReadyEvent(4, IoEvents.Read)], PollOnce(LivenessMs));

        TestFds.WriteByte(b);

        Assert.Equal([new ReadyEvent(4, IoEvents.Read)], PollOnce(LivenessMs));
    }
}
