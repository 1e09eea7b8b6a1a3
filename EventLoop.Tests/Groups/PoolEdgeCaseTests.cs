using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Groups;

/// <summary>A pool's bound and its map helpers when spawners or workers are killed.</summary>
public sealed class PoolEdgeCaseTests
{
    private static readonly TimeSpan s_second = TimeSpan.FromSeconds(1);

    [Fact]
    public void MapUnorderedAsync_WorkerKilledFromOutside_EnumerationThrows_InsteadOfEndingShort()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            var results = new List<int>();
            Greenlet consumer = loop.Spawn(async () =>
            {
                await foreach (int r in pool.MapUnorderedAsync(Enumerable.Range(0, 5), async i =>
                {
                    await loop.Sleep(s_second);
                    return i;
                }))
                {
                    results.Add(r);
                }
            });
            await loop.Sleep(TimeSpan.FromSeconds(1.5)); // item 0 done, item 1 in flight
            Greenlet worker = Assert.Single(pool.ToArray());
            worker.Kill();
            await loop.JoinAllAsync([consumer]);
            Assert.Equal([0], results);
            Assert.IsAssignableFrom<OperationCanceledException>(consumer.Exception);
            Assert.Same(worker.Exception, consumer.Exception);
            Assert.Empty(pool);
        });
    }

    [Fact]
    public void SpawnAsync_SpawnerKilledWhileWaiting_TheSlotGoesToTheNextSpawner()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            var release = new LoopEvent(loop);
            Greenlet occupant = pool.Spawn(async () => await release.WaitAsync());
            bool firstRan = false;
            Greenlet<Greenlet> first = loop.Spawn(async () => await pool.SpawnAsync(() =>
            {
                firstRan = true;
                return Task.CompletedTask;
            }));
            Greenlet<Greenlet> second = loop.Spawn(async () => await pool.SpawnAsync(() => loop.Sleep(s_second).AsTask()));
            await loop.Settle();
            Assert.Equal(2, pool.WaitingCount);
            first.Kill();
            await loop.Settle();
            Assert.Equal(1, pool.WaitingCount);
            release.Set();
            await loop.JoinAllAsync([first, second, occupant]);
            Assert.True(second.Succeeded);
            Assert.True(pool.Contains(second.Value));
            Assert.Equal(0, pool.FreeCount);
            Assert.True(await pool.JoinAsync());
            Assert.Equal(1, pool.FreeCount);
            Assert.Equal(0, pool.WaitingCount);
            Assert.False(firstRan);
        });
    }

    [Fact]
    public void SpawnAsync_SlotHandedThenSpawnerKilledInTheSameIteration_KeepsTheSlot_NothingLeaks()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            var release = new LoopEvent(loop);
            Greenlet occupant = pool.Spawn(async () => await release.WaitAsync());
            Greenlet<Greenlet> first = loop.Spawn(async () => await pool.SpawnAsync(() => Task.CompletedTask));
            Greenlet<Greenlet> second = loop.Spawn(async () => await pool.SpawnAsync(() => Task.CompletedTask));
            await loop.Settle();
            release.Set();
            await loop.Settle(1);
            Assert.True(occupant.IsCompleted); // the slot is reserved for the first spawner now...
            Assert.Equal(0, pool.FreeCount);
            first.Kill(); // ...which is killed before its continuation runs: a served waiter keeps its slot
            await loop.JoinAllAsync([first, second]);
            Assert.True(second.Succeeded);
            Assert.True(await pool.JoinAsync());
            Assert.Equal(1, pool.FreeCount);
            Assert.Equal(0, pool.WaitingCount);
        });
    }
}
