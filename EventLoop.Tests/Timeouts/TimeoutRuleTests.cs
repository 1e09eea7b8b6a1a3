using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Timeouts;

/// <summary>
/// The one rule for per-call <c>timeout</c> parameters, on every primitive that has one: a wait
/// whose only result is "it happened" returns false; a wait that yields a value, an item or a
/// permit throws <see cref="LoopTimeoutException"/> (no scope), at the deadline of loop time.
/// </summary>
public sealed class TimeoutRuleTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    public static TheoryData<string> ValueWaits => new()
    {
        nameof(LoopQueue<int>),
        nameof(LifoLoopQueue<int>),
        nameof(PriorityLoopQueue<int>),
        nameof(JoinableLoopQueue<int>),
        nameof(LoopChannel<int>),
        nameof(LoopResult<int>),
        nameof(LoopSemaphore),
        nameof(BoundedLoopSemaphore),
        nameof(LoopLock),
        "LoopQueue.PutAsync",
        "LifoLoopQueue.PutAsync",
        "PriorityLoopQueue.PutAsync",
        "JoinableLoopQueue.PutAsync",
        "LoopChannel.PutAsync",
        "GreenletGroup.SpawnAsync",
        "GreenletPool.SpawnAsync<T>",
    };

    public static TheoryData<string> SignalWaits => new()
    {
        nameof(LoopEvent),
        "JoinableLoopQueue.JoinAsync",
        "GreenletGroup.JoinAsync",
        "GreenletGroup.WaitAvailableAsync",
    };

    [Theory]
    [MemberData(nameof(ValueWaits))]
    public void ValueWait_TimesOut_ThrowsLoopTimeoutExceptionWithoutScope_AtTheDeadline(string primitive)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            LoopTimeoutException ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await StartValueWait(loop, primitive));
            Assert.Null(ex.Scope);
            Assert.IsAssignableFrom<TimeoutException>(ex);
            Assert.Equal(s_timeout, loop.Now - start);
        });
    }

    [Theory]
    [MemberData(nameof(SignalWaits))]
    public void SignalWait_TimesOut_ReturnsFalse_AtTheDeadline(string wait)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            Assert.False(await StartSignalWait(loop, wait));
            Assert.Equal(s_timeout, loop.Now - start);
        });
    }

    [Fact]
    public void SemaphoreAcquire_TimedOut_TakesNoPermit()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var semaphore = new LoopSemaphore(loop, 0);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await semaphore.AcquireAsync(s_timeout));
            semaphore.Release();
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }

    [Fact]
    public void QueuePut_TimedOut_AddsNothing_AndLaterPutsKeepTheirPlace()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var queue = new LoopQueue<int>(loop, capacity: 1);
            await queue.PutAsync(1);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await queue.PutAsync(2, s_timeout));
            Assert.Equal(0, queue.WaitingPutters);
            ValueTask third = queue.PutAsync(3, s_timeout); // waits for room
            Assert.Equal(1, await queue.GetAsync());
            await third;
            Assert.Equal(3, await queue.GetAsync());
            Assert.Equal(0, queue.Count);
        });
    }

    [Fact]
    public void LockAcquire_TimedOut_TakesNothing_AndTheLockPassesToTheNextWaiter()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var gate = new LoopLock(loop);
            LoopReleaser held = await gate.AcquireAsync();
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await gate.AcquireAsync(s_timeout));
            Assert.Equal(0, gate.WaitingCount);
            ValueTask<LoopReleaser> next = gate.AcquireAsync(s_timeout);
            held.Dispose();
            using (await next)
            {
                Assert.True(gate.IsLocked);
            }

            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void GroupSpawn_TimedOut_SpawnsNothing_AndLeavesTheSlotForTheNextCaller()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            var release = new LoopEvent(loop);
            Greenlet first = pool.Spawn(async () => await release.WaitAsync());
            bool ran = false;
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await pool.SpawnAsync(() => { ran = true; return Task.CompletedTask; }, s_timeout));
            Assert.Equal(0, pool.WaitingCount);
            Assert.Equal(0, pool.FreeCount);
            ValueTask<Greenlet<int>> next = pool.SpawnAsync(() => Task.FromResult(7), s_timeout);
            release.Set();
            Assert.Equal(7, await await next);
            await first;
            Assert.False(ran);
        });
    }

    private static async Task StartValueWait(Loop loop, string primitive)
    {
        switch (primitive)
        {
            case nameof(LoopQueue<int>):
                await new LoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LifoLoopQueue<int>):
                await new LifoLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(PriorityLoopQueue<int>):
                await new PriorityLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(JoinableLoopQueue<int>):
                await new JoinableLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopChannel<int>):
                await new LoopChannel<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopResult<int>):
                await new LoopResult<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopSemaphore):
                await new LoopSemaphore(loop, 0).AcquireAsync(s_timeout);
                break;
            case nameof(BoundedLoopSemaphore):
                var bounded = new BoundedLoopSemaphore(loop, 1);
                using (await bounded.AcquireAsync(s_timeout))
                {
                    await bounded.AcquireAsync(s_timeout);
                }

                break;
            case nameof(LoopLock):
                var gate = new LoopLock(loop);
                using (await gate.AcquireAsync(s_timeout))
                {
                    await gate.AcquireAsync(s_timeout);
                }

                break;
            case "LoopQueue.PutAsync":
                var loopQueue = new LoopQueue<int>(loop, capacity: 1);
                loopQueue.TryPut(0); // full
                await loopQueue.PutAsync(1, s_timeout);
                break;
            case "LifoLoopQueue.PutAsync":
                var lifoLoopQueue = new LifoLoopQueue<int>(loop, capacity: 1);
                lifoLoopQueue.TryPut(0); // full
                await lifoLoopQueue.PutAsync(1, s_timeout);
                break;
            case "PriorityLoopQueue.PutAsync":
                var priorityLoopQueue = new PriorityLoopQueue<int>(loop, capacity: 1);
                priorityLoopQueue.TryPut(0); // full
                await priorityLoopQueue.PutAsync(1, s_timeout);
                break;
            case "JoinableLoopQueue.PutAsync":
                var joinableLoopQueue = new JoinableLoopQueue<int>(loop, capacity: 1);
                joinableLoopQueue.TryPut(0); // full
                await joinableLoopQueue.PutAsync(1, s_timeout);
                break;
            case "LoopChannel.PutAsync":
                await new LoopChannel<int>(loop).PutAsync(1, s_timeout);
                break;
            case "GreenletGroup.SpawnAsync":
                await SpawnIntoFullPool(loop, pool => pool.SpawnAsync(() => Task.CompletedTask, s_timeout).AsTask());
                break;
            case "GreenletPool.SpawnAsync<T>":
                await SpawnIntoFullPool(loop, pool => pool.SpawnAsync(() => Task.FromResult(1), s_timeout).AsTask());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(primitive), primitive, null);
        }
    }

    private static async Task<bool> StartSignalWait(Loop loop, string wait)
    {
        switch (wait)
        {
            case nameof(LoopEvent):
                return await new LoopEvent(loop).WaitAsync(s_timeout);
            case "JoinableLoopQueue.JoinAsync":
                var queue = new JoinableLoopQueue<int>(loop);
                queue.TryPut(1); // an unfinished task: JoinAsync waits for TaskDone
                return await queue.JoinAsync(s_timeout);
            case "GreenletGroup.JoinAsync":
                var group = new GreenletGroup(loop);
                Greenlet member = group.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
                bool joined = await group.JoinAsync(s_timeout);
                member.Kill();
                return joined;
            case "GreenletGroup.WaitAvailableAsync":
                var full = new GreenletPool(loop, 1);
                Greenlet occupant = full.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
                bool available = await full.WaitAvailableAsync(s_timeout);
                occupant.Kill();
                return available;
            default:
                throw new ArgumentOutOfRangeException(nameof(wait), wait, null);
        }
    }

    /// <summary>Runs <paramref name="spawn"/> against a pool of one whose slot stays taken, then frees it.</summary>
    private static async Task SpawnIntoFullPool(Loop loop, Func<GreenletPool, Task> spawn)
    {
        var pool = new GreenletPool(loop, 1);
        Greenlet occupant = pool.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        try
        {
            await spawn(pool);
        }
        finally
        {
            occupant.Kill();
        }
    }
}
