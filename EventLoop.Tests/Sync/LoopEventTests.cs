namespace EventLoop.Tests.Sync;

public sealed class LoopEventTests
{
    [Fact]
    public void Set_WakesAllWaiters_InFifoOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        var order = new List<int>();
        loop.Run(async () =>
        {
            var ev = new LoopEvent(loop);
            var waiters = Enumerable.Range(0, 5).Select(i => loop.Spawn(async () =>
            {
                Assert.True(await ev.WaitAsync());
                order.Add(i);
            })).ToList();
            await loop.Settle();
            Assert.Equal(5, ev.WaiterCount);
            ev.Set();
            Assert.Equal(0, ev.WaiterCount);
            await loop.JoinAllAsync(waiters, raiseError: true);
        });
        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void WaitAsync_WhenSet_CompletesSynchronously_AndClearResets()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ev = new LoopEvent(loop, initialState: true);
            Assert.True(ev.WaitAsync().IsCompletedSuccessfully);
            ev.Clear();
            Assert.False(ev.IsSet);
            Assert.False(ev.WaitAsync(TimeSpan.Zero).Result);
            await Task.CompletedTask;
        });
    }

    [Fact]
    public void WaitAsync_Timeout_ReturnsFalseAtVirtualDeadline()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ev = new LoopEvent(loop);
            TimeSpan start = loop.Now;
            Assert.False(await ev.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(loop.Now - start >= TimeSpan.FromSeconds(30));
            Assert.Equal(0, ev.WaiterCount);
        });
    }

    [Fact]
    public void Members_OffTheLoopThread_Throw()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ev = new LoopEvent(loop);
            var q = new LoopQueue<int>(loop);
            var sem = new LoopSemaphore(loop, 1);
            await Task.Run(() =>
            {
                Assert.Throws<InvalidOperationException>(ev.Set);
                Assert.Throws<InvalidOperationException>(() => q.TryPut(1));
                Assert.Throws<InvalidOperationException>(() => sem.TryAcquire());
                Assert.Throws<InvalidOperationException>(() => new LoopLock(loop).TryAcquire());
            });
        });
    }
}
