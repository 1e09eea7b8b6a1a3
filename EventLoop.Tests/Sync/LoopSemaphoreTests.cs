namespace EventLoop.Tests.Sync;

public sealed class LoopSemaphoreTests
{
    [Fact]
    public void AcquireAsync_LimitsConcurrency_AndServesFifo()
    {
        using Loop loop = SyncTestLoop.Create();
        var order = new List<int>();
        int inside = 0, maxInside = 0;
        loop.Run(async () =>
        {
            var sem = new LoopSemaphore(loop, 2);
            var workers = Enumerable.Range(0, 6).Select(i => loop.Spawn(async () =>
            {
                using (await sem.AcquireAsync())
                {
                    order.Add(i);
                    maxInside = Math.Max(maxInside, ++inside);
                    await loop.Sleep(TimeSpan.FromMilliseconds(10));
                    inside--;
                }
            })).ToList();
            await loop.JoinAllAsync(workers, raiseError: true);
            Assert.Equal(2, sem.CurrentCount);
        });
        Assert.Equal([0, 1, 2, 3, 4, 5], order);
        Assert.Equal(2, maxInside);
    }

    [Fact]
    public void TryAcquire_AndRelease_AdjustCount()
    {
        using Loop loop = SyncTestLoop.Create();
        var sem = new LoopSemaphore(loop, 1);
        Assert.True(sem.TryAcquire());
        Assert.False(sem.TryAcquire());
        sem.Release();
        sem.Release();
        Assert.Equal(2, sem.CurrentCount);
    }

    [Fact]
    public void BoundedRelease_PastTheBound_Throws()
    {
        using Loop loop = SyncTestLoop.Create();
        var sem = new BoundedLoopSemaphore(loop, 1);
        Assert.Throws<InvalidOperationException>(sem.Release);
        Assert.True(sem.TryAcquire());
        sem.Release();
        Assert.Equal(1, sem.CurrentCount);
    }

    [Fact]
    public void AcquireAsync_WithTimeout_ThrowsTimeoutAndTakesNothing()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var sem = new LoopSemaphore(loop, 0);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await sem.AcquireAsync(TimeSpan.FromSeconds(1)));
            Assert.Equal(0, sem.WaitingCount);
            sem.Release();
            Assert.Equal(1, sem.CurrentCount);
        });
    }

    [Fact]
    public void Lock_IsExclusive_HandsOverFifo_AndReleaseWhenFreeThrows()
    {
        using Loop loop = SyncTestLoop.Create();
        var log = new List<string>();
        loop.Run(async () =>
        {
            var gate = new LoopLock(loop);
            Assert.Throws<InvalidOperationException>(gate.Release);
            var workers = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                using (await gate.AcquireAsync())
                {
                    log.Add($"in{i}");
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    log.Add($"out{i}");
                }
            })).ToList();
            await loop.JoinAllAsync(workers, raiseError: true);
            Assert.False(gate.IsLocked);
            Assert.True(gate.TryAcquire());
            Assert.False(gate.TryAcquire());
        });
        Assert.Equal(["in0", "out0", "in1", "out1", "in2", "out2"], log);
    }
}
