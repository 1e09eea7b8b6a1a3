namespace EventLoop.Tests.Sync;

/// <summary>Cancellation by token and by kill at every wait point; cancelled waiters leave no trace.</summary>
public sealed class CancellationTests
{
    // One wait point per primitive: creates a blocked wait, and reports the primitive's waiter count.
    public static TheoryData<string> WaitPoints => new()
    {
        "event", "result", "semaphore", "lock", "queue-get", "queue-put", "channel-get", "channel-put", "pool-spawn", "group-join",
    };

    private static (Func<CancellationToken, Task> Wait, Func<int> Waiters) Blocked(Loop loop, string point)
    {
        switch (point)
        {
            case "event":
                var ev = new LoopEvent(loop);
                return (ct => ev.WaitAsync(ct).AsTask(), () => ev.WaiterCount);
            case "result":
                var result = new LoopResult<int>(loop);
                return (ct => result.GetAsync(ct).AsTask(), () => result.WaiterCount);
            case "semaphore":
                var sem = new LoopSemaphore(loop, 0);
                return (ct => sem.AcquireAsync(ct).AsTask(), () => sem.WaitingCount);
            case "lock":
                var gate = new LoopLock(loop);
                gate.TryAcquire();
                return (ct => gate.AcquireAsync(ct).AsTask(), () => gate.WaitingCount);
            case "queue-get":
                var q = new LoopQueue<int>(loop);
                return (ct => q.GetAsync(ct).AsTask(), () => q.WaitingGetters);
            case "queue-put":
                var full = new LoopQueue<int>(loop, 1);
                full.TryPut(0);
                return (ct => full.PutAsync(1, ct).AsTask(), () => full.WaitingPutters);
            case "channel-get":
                var ch = new LoopChannel<int>(loop);
                return (ct => ch.GetAsync(ct).AsTask(), () => ch.WaitingGetters);
            case "channel-put":
                var ch2 = new LoopChannel<int>(loop);
                return (ct => ch2.PutAsync(1, ct).AsTask(), () => ch2.WaitingPutters);
            case "pool-spawn":
                var pool = new GreenletPool(loop, 1);
                pool.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
                return (ct => pool.SpawnAsync(() => Task.CompletedTask, ct).AsTask(), () => pool.WaitingCount);
            default:
                var group = new GreenletGroup(loop);
                group.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
                return (ct => group.JoinAsync(cancellationToken: ct).AsTask(), () => 0);
        }
    }

    [Theory]
    [MemberData(nameof(WaitPoints))]
    public void Wait_TokenCancelled_ThrowsAndUnlinks(string point)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var (wait, waiters) = Blocked(loop, point);
            using var cts = new CancellationTokenSource();
            Greenlet g = loop.Spawn(() => wait(cts.Token));
            await loop.Settle();
            Assert.False(g.IsCompleted);
            cts.Cancel();
            Assert.Equal(0, waiters());
            await loop.Settle();
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        });
    }

    [Theory]
    [MemberData(nameof(WaitPoints))]
    public void Wait_GreenletKilled_ThrowsAndUnlinks(string point)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var (wait, waiters) = Blocked(loop, point);
            Greenlet g = loop.Spawn(() => wait(default));
            await loop.Settle();
            Assert.False(g.IsCompleted);
            await g.KillAsync();
            Assert.Equal(0, waiters());
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        });
    }

    [Fact]
    public void Wait_TokenCancelledFromAnotherThread_CompletesOnTheLoop()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            using var cts = new CancellationTokenSource();
            Greenlet g = loop.Spawn(async () => await q.GetAsync(cts.Token));
            await loop.Settle();
            await Task.Run(cts.Cancel);
            await loop.JoinAllAsync([g]);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
            Assert.Equal(0, q.WaitingGetters);
        });
    }

    [Fact]
    public void HundredThousandCancelledWaits_LeaveNoWaiterBehind()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ev = new LoopEvent(loop);
            var q = new LoopQueue<object>(loop);
            var weak = new List<WeakReference>();
            for (int round = 0; round < 100; round++)
            {
                using var cts = new CancellationTokenSource();
                var pending = new List<Task>(1000);
                for (int i = 0; i < 500; i++)
                {
                    pending.Add(ev.WaitAsync(cts.Token).AsTask());
                    pending.Add(q.GetAsync(cts.Token).AsTask());
                }

                Assert.Equal(500, ev.WaiterCount);
                cts.Cancel();
                Assert.Equal(0, ev.WaiterCount);
                Assert.Equal(0, q.WaitingGetters);
                foreach (Task t in pending)
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t);
                }

                if (round == 0)
                {
                    weak.Add(new WeakReference(cts));
                }
            }

            Assert.True(ev.PooledWaiterCount <= 16);
            Assert.True(q.PooledWaiterCount <= 32);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.All(weak, w => Assert.False(w.IsAlive));
        });
    }

    [Fact]
    public void ValueBeatsLaterCancel_SemaphorePermitIsKept()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var sem = new LoopSemaphore(loop, 0);
            using var cts = new CancellationTokenSource();
            bool acquired = false;
            Greenlet g = loop.Spawn(async () =>
            {
                using (await sem.AcquireAsync(cts.Token))
                {
                    acquired = true;
                }
            });
            await loop.Settle();
            sem.Release();   // handed to the waiter...
            cts.Cancel();    // ...before its continuation runs: too late to cancel
            await g;
            Assert.True(acquired);
            Assert.Equal(1, sem.CurrentCount);
        });
    }

    [Fact]
    public void ValueBeatsLaterKill_QueueItemIsDelivered()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            int received = 0;
            Greenlet g = loop.Spawn(async () =>
            {
                received = await q.GetAsync();
                await loop.Sleep(TimeSpan.FromSeconds(1));
            });
            await loop.Settle();
            q.TryPut(42);
            g.Kill();
            await loop.JoinAllAsync([g]);
            Assert.Equal(42, received);
            Assert.Equal(0, q.Count);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        });
    }

    [Fact]
    public void WarmWaits_WithoutCancellableToken_AllocateNothing()
    {
        using Loop loop = SyncTestLoop.Create();
        long allocated = -1;
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            var ev = new LoopEvent(loop);
            var sem = new LoopSemaphore(loop, 0);
            Greenlet producer = loop.Spawn(async () =>
            {
                // Sleep, not Yield: a warm Sleep allocates nothing, so only the waits are measured.
                for (int i = 0; i < 2000; i++)
                {
                    await loop.Sleep(TimeSpan.FromTicks(1));
                    q.TryPut(i);
                    ev.Set();
                    ev.Clear();
                    sem.Release();
                }
            });
            for (int i = 0; i < 1000; i++)
            {
                await q.GetAsync();
                sem.TryAcquire();
            }

            // The quietest of three windows: an allocation per wait shows in every one, a one-off
            // of the runtime on this thread in one at most (see AllocationWindows).
            allocated = long.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 300; i++)
                {
                    if (i % 2 == 0)
                    {
                        await q.GetAsync();
                        sem.TryAcquire();
                    }
                    else
                    {
                        await ev.WaitAsync();
                        q.TryGet(out _);
                        using (await sem.AcquireAsync())
                        {
                        }

                        sem.TryAcquire();
                    }
                }

                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            }

            producer.Kill();
        });
        // Under 1 KB for 300 waits (one object per wait would be several KB): nothing is allocated
        // per wait; what may remain is one-off growth (the queue's backing array as the producer
        // runs ahead).
        Assert.InRange(allocated, 0, 999);
    }
}
