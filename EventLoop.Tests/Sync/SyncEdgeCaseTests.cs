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

    public static TheoryData<string> TokenCalls => new()
    {
        "LoopQueue.GetAsync", "LoopQueue.PutAsync", "LoopChannel.PutAsync", "LoopSemaphore.AcquireAsync",
        "BoundedLoopSemaphore.AcquireAsync", "LoopLock.AcquireAsync", "LoopEvent.WaitAsync", "LoopResult.GetAsync",
        "JoinableLoopQueue.JoinAsync", "GreenletGroup.JoinAsync", "GreenletGroup.WaitAvailableAsync",
        "GreenletGroup.WaitAvailableAsync(token)", "GreenletGroup.SpawnAsync", "GreenletGroup.SpawnAsync<T>",
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
        loop.Run(async () =>
        {
            ReadyPrimitives ready = await ReadyPrimitives.CreateAsync(loop);
            Func<Task> start = ready.Call(call, TimeSpan.FromSeconds(-5), CancellationToken.None);

            ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = start(); }); // thrown by the call itself
            Assert.Equal("timeout", error.ParamName);
            ready.AssertNothingTaken();
        });
    }

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
        loop.Run(async () =>
        {
            ReadyPrimitives ready = await ReadyPrimitives.CreateAsync(loop);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(ready.Call(call, null, canceled.Token));
            ready.AssertNothingTaken();
        });
    }

    /// <summary>One of each primitive in a state where its call completes at once, and one getter parked on the channel.</summary>
    private sealed class ReadyPrimitives
    {
        private readonly Loop _loop;
        private readonly LoopQueue<int> _queue;
        private readonly LoopChannel<int> _channel;
        private readonly Greenlet _getter;
        private readonly LoopResult<int> _result;
        private readonly GreenletPool _pool;
        private readonly LoopSemaphore _semaphore;
        private readonly BoundedLoopSemaphore _bounded;
        private readonly LoopLock _lock;

        private ReadyPrimitives(Loop loop)
        {
            _loop = loop;
            _queue = new LoopQueue<int>(loop);
            _queue.TryPut(1);
            _channel = new LoopChannel<int>(loop);
            _getter = loop.Spawn(async () => await _channel.GetAsync());
            _result = new LoopResult<int>(loop);
            _result.SetResult(1);
            _pool = new GreenletPool(loop, 1);
            _semaphore = new LoopSemaphore(loop, 1);
            _bounded = new BoundedLoopSemaphore(loop, 1);
            _lock = new LoopLock(loop);
        }

        public static async Task<ReadyPrimitives> CreateAsync(Loop loop)
        {
            var ready = new ReadyPrimitives(loop);
            await loop.Settle(); // the channel's getter waits
            return ready;
        }

        /// <summary>The call named <paramref name="call"/>, with the timeout and the token given.</summary>
        public Func<Task> Call(string call, TimeSpan? timeout, CancellationToken ct) => call switch
        {
            "LoopQueue.GetAsync" => () => _queue.GetAsync(timeout, ct).AsTask(),
            "LoopQueue.PutAsync" => () => _queue.PutAsync(2, timeout, ct).AsTask(),
            "LoopChannel.PutAsync" => () => _channel.PutAsync(2, timeout, ct).AsTask(),
            "LoopSemaphore.AcquireAsync" => () => _semaphore.AcquireAsync(timeout, ct).AsTask(),
            "BoundedLoopSemaphore.AcquireAsync" => () => _bounded.AcquireAsync(timeout, ct).AsTask(),
            "LoopLock.AcquireAsync" => () => _lock.AcquireAsync(timeout, ct).AsTask(),
            "LoopEvent.WaitAsync" => () => new LoopEvent(_loop, initialState: true).WaitAsync(timeout, ct).AsTask(),
            "LoopResult.GetAsync" => () => _result.GetAsync(timeout, ct).AsTask(),
            "JoinableLoopQueue.JoinAsync" => () => new JoinableLoopQueue<int>(_loop).JoinAsync(timeout, ct).AsTask(),
            "GreenletGroup.JoinAsync" => () => _pool.JoinAsync(timeout, false, ct).AsTask(),
            "GreenletGroup.KillAllAsync" => () => _pool.KillAllAsync(timeout).AsTask(),
            "GreenletGroup.WaitAvailableAsync" => () => _pool.WaitAvailableAsync(timeout, ct).AsTask(),
            "GreenletGroup.WaitAvailableAsync(token)" => () => _pool.WaitAvailableAsync(ct).AsTask(),
            "GreenletGroup.SpawnAsync" => () => _pool.SpawnAsync(() => Task.CompletedTask, timeout, ct).AsTask(),
            "GreenletGroup.SpawnAsync<T>" => () => _pool.SpawnAsync(() => Task.FromResult(1), timeout, ct).AsTask(),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
        };

        /// <summary>The refused call took, put and started nothing; the channel's getter is let go.</summary>
        public void AssertNothingTaken()
        {
            Assert.Equal(1, _queue.Count);
            Assert.Equal(1, _channel.WaitingGetters);
            Assert.Empty(_pool);
            Assert.Equal(1, _semaphore.CurrentCount);
            Assert.Equal(1, _bounded.CurrentCount);
            Assert.False(_lock.IsLocked);
            _getter.Kill();
        }
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
