namespace EventLoop.Tests.Sync;

/// <summary>
/// Corner cases of the coordination primitives a gevent or asyncio user takes for granted: the
/// per-call timeout argument, hand-overs racing kills and timeouts in one iteration, and the
/// thread rule.
/// </summary>
public sealed class SyncEdgeCaseTests
{
    private static readonly TimeSpan s_second = TimeSpan.FromSeconds(1);

    public static TheoryData<string> TimedCalls => new()
    {
        "LoopQueue.GetAsync", "LoopQueue.PutAsync", "LoopChannel.PutAsync", "LoopSemaphore.AcquireAsync",
        "BoundedLoopSemaphore.AcquireAsync", "LoopLock.AcquireAsync", "LoopEvent.WaitAsync", "LoopResult.GetAsync",
        "JoinableLoopQueue.JoinAsync", "GreenletGroup.JoinAsync", "GreenletGroup.KillAllAsync",
        "GreenletGroup.WaitAvailableAsync", "GreenletGroup.SpawnAsync", "GreenletGroup.SpawnAsync<T>",
    };

    /// <summary>
    /// Every call below would complete at once (an item, a permit, a set event, a free slot), so a
    /// negative timeout was only noticed on the slow path: the same bad argument threw or passed
    /// depending on the primitive's state.
    /// </summary>
    [Theory]
    [MemberData(nameof(TimedCalls))]
    public void TimedCall_NegativeTimeout_ThrowsAtTheCall_EvenWhenItWouldNotWait(string call)
    {
        using Loop loop = SyncTestLoop.Create();
        TimeSpan bad = TimeSpan.FromSeconds(-5);
        loop.Run(async () =>
        {
            var queue = new LoopQueue<int>(loop);
            queue.TryPut(1);
            var channel = new LoopChannel<int>(loop);
            Greenlet getter = loop.Spawn(async () => await channel.GetAsync());
            var result = new LoopResult<int>(loop);
            result.SetResult(1);
            var pool = new GreenletPool(loop, 1);
            await loop.Settle();
            Func<object> start = call switch
            {
                "LoopQueue.GetAsync" => () => queue.GetAsync(bad),
                "LoopQueue.PutAsync" => () => queue.PutAsync(2, bad),
                "LoopChannel.PutAsync" => () => channel.PutAsync(2, bad),
                "LoopSemaphore.AcquireAsync" => () => new LoopSemaphore(loop, 1).AcquireAsync(bad),
                "BoundedLoopSemaphore.AcquireAsync" => () => new BoundedLoopSemaphore(loop, 1).AcquireAsync(bad),
                "LoopLock.AcquireAsync" => () => new LoopLock(loop).AcquireAsync(bad),
                "LoopEvent.WaitAsync" => () => new LoopEvent(loop, initialState: true).WaitAsync(bad),
                "LoopResult.GetAsync" => () => result.GetAsync(bad),
                "JoinableLoopQueue.JoinAsync" => () => new JoinableLoopQueue<int>(loop).JoinAsync(bad),
                "GreenletGroup.JoinAsync" => () => pool.JoinAsync(bad),
                "GreenletGroup.KillAllAsync" => () => pool.KillAllAsync(bad),
                "GreenletGroup.WaitAvailableAsync" => () => pool.WaitAvailableAsync(bad),
                "GreenletGroup.SpawnAsync" => () => pool.SpawnAsync(() => Task.CompletedTask, bad),
                "GreenletGroup.SpawnAsync<T>" => () => pool.SpawnAsync(() => Task.FromResult(1), bad),
                _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
            };

            ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => start());
            Assert.Equal("timeout", error.ParamName);

            // Nothing was taken or started by the rejected call.
            Assert.Equal(1, queue.Count);
            Assert.Equal(1, channel.WaitingGetters);
            Assert.Empty(pool);
            getter.Kill();
        });
    }

    public static TheoryData<string> TokenCalls => new()
    {
        "LoopQueue.GetAsync", "LoopQueue.PutAsync", "LoopChannel.PutAsync", "LoopSemaphore.AcquireAsync",
        "BoundedLoopSemaphore.AcquireAsync", "LoopLock.AcquireAsync", "LoopEvent.WaitAsync", "LoopResult.GetAsync",
        "JoinableLoopQueue.JoinAsync", "GreenletGroup.JoinAsync", "GreenletGroup.WaitAvailableAsync",
        "GreenletGroup.WaitAvailableAsync(timeout)", "GreenletGroup.SpawnAsync", "GreenletGroup.SpawnAsync<T>",
    };

    /// <summary>
    /// Every call below would complete at once; a token already canceled cancels it anyway, as
    /// <c>SemaphoreSlim.WaitAsync</c>, channel reads, <c>loop.Sleep</c> and the socket calls do,
    /// and the call takes nothing: no item, permit, lock or slot.
    /// </summary>
    [Theory]
    [MemberData(nameof(TokenCalls))]
    public void CallWithACanceledToken_IsCanceled_EvenWhenItWouldNotWait_AndTakesNothing(string call)
    {
        using Loop loop = SyncTestLoop.Create();
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        CancellationToken ct = canceled.Token;
        loop.Run(async () =>
        {
            var queue = new LoopQueue<int>(loop);
            queue.TryPut(1);
            var channel = new LoopChannel<int>(loop);
            Greenlet getter = loop.Spawn(async () => await channel.GetAsync());
            var result = new LoopResult<int>(loop);
            result.SetResult(1);
            var pool = new GreenletPool(loop, 1);
            var semaphore = new LoopSemaphore(loop, 1);
            var bounded = new BoundedLoopSemaphore(loop, 1);
            var loopLock = new LoopLock(loop);
            await loop.Settle();
            Func<Task> start = call switch
            {
                "LoopQueue.GetAsync" => () => queue.GetAsync(ct).AsTask(),
                "LoopQueue.PutAsync" => () => queue.PutAsync(2, ct).AsTask(),
                "LoopChannel.PutAsync" => () => channel.PutAsync(2, ct).AsTask(),
                "LoopSemaphore.AcquireAsync" => () => semaphore.AcquireAsync(ct).AsTask(),
                "BoundedLoopSemaphore.AcquireAsync" => () => bounded.AcquireAsync(ct).AsTask(),
                "LoopLock.AcquireAsync" => () => loopLock.AcquireAsync(ct).AsTask(),
                "LoopEvent.WaitAsync" => () => new LoopEvent(loop, initialState: true).WaitAsync(ct).AsTask(),
                "LoopResult.GetAsync" => () => result.GetAsync(ct).AsTask(),
                "JoinableLoopQueue.JoinAsync" => () => new JoinableLoopQueue<int>(loop).JoinAsync(null, ct).AsTask(),
                "GreenletGroup.JoinAsync" => () => pool.JoinAsync(null, false, ct).AsTask(),
                "GreenletGroup.WaitAvailableAsync" => () => pool.WaitAvailableAsync(ct).AsTask(),
                "GreenletGroup.WaitAvailableAsync(timeout)" => () => pool.WaitAvailableAsync(null, ct).AsTask(),
                "GreenletGroup.SpawnAsync" => () => pool.SpawnAsync(() => Task.CompletedTask, ct).AsTask(),
                "GreenletGroup.SpawnAsync<T>" => () => pool.SpawnAsync(() => Task.FromResult(1), ct).AsTask(),
                _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
            };

            await Assert.ThrowsAnyAsync<OperationCanceledException>(start);

            // Nothing was taken, put or started by the canceled call.
            Assert.Equal(1, queue.Count);
            Assert.Equal(1, channel.WaitingGetters);
            Assert.Empty(pool);
            Assert.Equal(1, semaphore.CurrentCount);
            Assert.Equal(1, bounded.CurrentCount);
            Assert.False(loopLock.IsLocked);
            getter.Kill();
        });
    }

    [Fact]
    public void GetAsync_GetterTimesOutInTheIterationOfThePut_ItemGoesToTheNextGetter()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            Greenlet<int> first = loop.Spawn(async () => await q.GetAsync(s_second));
            Greenlet<int> second = loop.Spawn(async () => await q.GetAsync());
            await loop.Settle();
            await loop.Sleep(s_second); // due with the first getter's timeout, and after it
            Assert.True(q.TryPut(7));
            await loop.JoinAllAsync([first, second]);
            Assert.IsType<LoopTimeoutException>(first.Exception);
            Assert.Equal(7, second.Value);
            Assert.Equal(0, q.Count);
            Assert.Equal(0, q.WaitingGetters);
        });
    }

    [Fact]
    public void GetAsync_GetterKilledJustBeforeThePut_ItemGoesToTheNextGetter()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            Greenlet<int> first = loop.Spawn(async () => await q.GetAsync());
            Greenlet<int> second = loop.Spawn(async () => await q.GetAsync());
            await loop.Settle();
            first.Kill();
            Assert.True(q.TryPut(7));
            await loop.JoinAllAsync([first, second]);
            Assert.IsAssignableFrom<OperationCanceledException>(first.Exception);
            Assert.Equal(7, second.Value);
            Assert.Equal(0, q.Count);
        });
    }

    [Fact]
    public void Waits_MaxValueAndInfiniteTimeouts_WaitForEver_AndDeliver()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            var sem = new LoopSemaphore(loop, 0);
            var ev = new LoopEvent(loop);
            Greenlet<int> getter = loop.Spawn(async () => await q.GetAsync(TimeSpan.MaxValue));
            Greenlet<bool> waiter = loop.Spawn(async () => await ev.WaitAsync(TimeSpan.MaxValue));
            Greenlet acquirer = loop.Spawn(async () =>
            {
                using (await sem.AcquireAsync(Timeout.InfiniteTimeSpan))
                {
                }
            });
            await loop.Sleep(TimeSpan.FromDays(3650));
            Assert.Equal(1, q.WaitingGetters);
            Assert.Equal(1, sem.WaitingCount);
            q.TryPut(3);
            ev.Set();
            sem.Release();
            await loop.JoinAllAsync([getter, waiter, acquirer], raiseError: true);
            Assert.Equal(3, getter.Value);
            Assert.True(waiter.Value);
            Assert.Equal(1, sem.CurrentCount);
        });
    }

    [Fact]
    public void Members_OffTheLoopThread_Throw_ForEveryPrimitive()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var joinable = new JoinableLoopQueue<int>(loop);
            joinable.TryPut(1);
            var result = new LoopResult<int>(loop);
            var channel = new LoopChannel<int>(loop);
            var bounded = new BoundedLoopSemaphore(loop, 1);
            bounded.TryAcquire();
            var gate = new LoopLock(loop);
            LoopReleaser held = await gate.AcquireAsync();
            var group = new GreenletGroup(loop);
            Greenlet member = group.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
            var ev = new LoopEvent(loop);
            var q = new LoopQueue<int>(loop);
            IAsyncEnumerator<int> items = q.GetAsyncEnumerator();
            var allowed = new List<string>();
            await Task.Run(() =>
            {
                void Check(string name, Action call)
                {
                    try
                    {
                        call();
                        allowed.Add(name);
                    }
                    catch (InvalidOperationException)
                    {
                    }
                }

                Check("JoinableLoopQueue.TaskDone", joinable.TaskDone);
                Check("JoinableLoopQueue.JoinAsync", () => joinable.JoinAsync());
                Check("LoopResult.SetResult", () => result.SetResult(1));
                Check("LoopResult.GetAsync", () => result.GetAsync());
                Check("LoopChannel.TryGet", () => channel.TryGet(out _));
                Check("LoopChannel.Complete", channel.Complete);
                Check("BoundedLoopSemaphore.Release", bounded.Release);
                Check("LoopReleaser.Dispose", held.Dispose);
                Check("GreenletGroup.Spawn", () => group.Spawn(() => Task.CompletedTask));
                Check("GreenletGroup.KillAll", group.KillAll);
                Check("GreenletGroup.JoinAsync", () => group.JoinAsync());
                Check("GreenletGroup.Discard", () => group.Discard(member));
                Check("LoopEvent.Clear", ev.Clear);
                Check("LoopQueue.Complete", q.Complete);
                Check("MoveNextAsync", () => items.MoveNextAsync());
            });
            Assert.Empty(allowed);
            Assert.True(gate.IsLocked);
            Assert.Equal(1, joinable.UnfinishedTasks);
            member.Kill();
        });
    }

    [Fact]
    public void JoinableQueue_ItemOfAWaitingPutter_CountsWhenItIsLetIn()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new JoinableLoopQueue<int>(loop, capacity: 1);
            q.TryPut(1);
            Greenlet putter = loop.Spawn(async () => await q.PutAsync(2));
            await loop.Settle();
            Assert.Equal(1, q.UnfinishedTasks);
            Assert.Equal(1, await q.GetAsync());
            Assert.Equal(2, q.UnfinishedTasks);
            q.TaskDone();
            Assert.False(await q.JoinAsync(TimeSpan.Zero));
            Assert.Equal(2, await q.GetAsync());
            q.TaskDone();
            Assert.True(await q.JoinAsync(TimeSpan.Zero));
            Assert.Throws<InvalidOperationException>(q.TaskDone);
            await putter;
        });
    }

    [Fact]
    public void Lock_ReleasedByAGreenletThatDoesNotHoldIt_PassesToTheOldestWaiter()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var gate = new LoopLock(loop);
            Greenlet holder = loop.Spawn(async () => await gate.AcquireAsync()); // ends holding it
            await holder;
            Assert.True(gate.IsLocked);
            var order = new List<int>();
            Greenlet[] waiters = [.. Enumerable.Range(0, 2).Select(i => loop.Spawn(async () =>
            {
                using (await gate.AcquireAsync())
                {
                    order.Add(i);
                }
            }))];
            await loop.Settle();
            gate.Release(); // not the holder: the lock is not owned
            await loop.JoinAllAsync(waiters, raiseError: true);
            Assert.Equal([0, 1], order);
            Assert.False(gate.IsLocked);
            Assert.Throws<InvalidOperationException>(gate.Release);
        });
    }
}
