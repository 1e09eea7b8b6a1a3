using EventLoop.Polling;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Polling;

/// <summary>
/// A disposed io_uring loop gives back its ring and its eventfd, and no poll request keeps a
/// user's socket open. Runs alone (see <see cref="DescriptorCountingCollection"/>).
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class IoUringDescriptorTests
{
    [Fact]
    public void Dispose_IoUringLoop_ReleasesEveryDescriptor()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return; // see IoUringLoopTests
        }

        CreateRunAndDispose();
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        for (int i = 0; i < 20; i++)
        {
            CreateRunAndDispose();
        }

        before.AssertOpenedSince(0);
    }

    private static void CreateRunAndDispose()
    {
        var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        using var pair = new SocketPair();
        loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(PollerKind.IoUring, loop.Poller);
        loop.Dispose();
    }
}
