using System.Threading.Channels;

namespace EventLoop.Tests.Sync;

// This file compiles with `using EventLoop;` next to the implicit usings (System.Threading,
// System.Collections.Generic...) and System.Threading.Channels, naming the BCL types unqualified:
// if a primitive were called Lock, Semaphore, Queue or Channel, this would not build.
public sealed class NamingTests
{
    [Fact]
    public void BclNames_WithUsingEventLoop_AreNotAmbiguous()
    {
        Lock gate = new();
        using Semaphore semaphore = new(1, 1);
        Queue<int> queue = new();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        using CancellationTokenSource cts = new();

        Assert.Equal("System.Threading.Lock", gate.GetType().FullName);
        Assert.Equal("System.Threading.Semaphore", semaphore.GetType().FullName);
        Assert.Equal(typeof(System.Collections.Generic.Queue<int>), queue.GetType());
        Assert.True(channel.Writer.TryWrite(1));
        Assert.Equal("EventLoop", typeof(LoopQueue<int>).Namespace);
        Assert.Equal("EventLoop", typeof(LoopLock).Namespace);
        Assert.Equal("EventLoop", typeof(LoopChannel<int>).Namespace);
    }
}
