namespace EventLoop.Tests.Core;

/// <summary>
/// A disposed loop gives back every descriptor it opened: its poller, its waker, and nothing
/// of the user's. Runs alone (see <see cref="DescriptorCountingCollection"/>), because other
/// tests opening sockets in parallel would skew the count.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class LoopDescriptorTests
{
    [Fact]
    public void Dispose_Loop_ReleasesEveryDescriptor()
    {
        CreateRunAndDispose(); // first use may load native pieces that keep a descriptor for good
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        for (int i = 0; i < 20; i++)
        {
            CreateRunAndDispose();
        }

        before.AssertOpenedSince(0);
    }

    private static void CreateRunAndDispose()
    {
        var loop = new Loop();
        using var pair = new SocketPair();
        loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
    }
}
