using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Groups;

public sealed class GreenletPoolTests
{
    [Fact]
    public void SpawnAsync_WaitsWhilePoolIsFull_ServesFifo()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 2);
            var started = new List<int>();
            for (int i = 0; i < 5; i++)
            {
                int n = i;
                await pool.SpawnAsync(async () =>
                {
                    started.Add(n);
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                });
                Assert.True(pool.Count <= 2);
            }

            Assert.True(await pool.JoinAsync());
            Assert.Equal([0, 1, 2, 3, 4], started);
            Assert.Empty(pool);
        });
    }

    [Fact]
    public void Spawn_WhenFull_Throws_TrySpawnReturnsFalse()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            _ = pool.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            Assert.True(pool.IsFull);
            Assert.Throws<InvalidOperationException>(() => pool.Spawn(() => Task.CompletedTask));
            Assert.False(pool.TrySpawn(() => Task.CompletedTask, out _));
            await pool.JoinAsync();
            Assert.True(pool.TrySpawn(() => Task.CompletedTask, out Greenlet? g));
            await g!;
        });
    }

    [Fact]
    public void MapAsync_KeepsAtMostSizeInFlight_ResultsInInputOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 3);
            int inFlight = 0, maxInFlight = 0;
            int[] results = await pool.MapAsync(Enumerable.Range(0, 20), async i =>
            {
                maxInFlight = Math.Max(maxInFlight, ++inFlight);
                await loop.Sleep(TimeSpan.FromMilliseconds(20 - i)); // later items finish first
                inFlight--;
                return i * i;
            });
            Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), results);
            Assert.Equal(3, maxInFlight);
        });
    }

    [Fact]
    public void MapAsync_FailingItem_RethrowsAndKillsTheOthers()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 4);
            var boom = new InvalidDataException("item 5");
            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => pool.MapAsync(Enumerable.Range(0, 50), async i =>
            {
                await loop.Sleep(TimeSpan.FromSeconds(1));
                return i == 5 ? throw boom : i;
            }));
            Assert.Same(boom, ex);
            await loop.Settle();
            Assert.Empty(pool);
        });
    }

    [Fact]
    public void MapUnorderedAsync_YieldsInCompletionOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 10);
            var got = new List<int>();
            await foreach (int r in pool.MapUnorderedAsync(new[] { 3, 1, 2 }, async i =>
            {
                await loop.Sleep(TimeSpan.FromSeconds(i));
                return i;
            }))
            {
                got.Add(r);
            }

            Assert.Equal([1, 2, 3], got);
        });
    }

    [Fact]
    public void ForEachAsync_RunsEveryItem()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 2);
            int sum = 0;
            await pool.ForEachAsync(Enumerable.Range(1, 100), async i =>
            {
                await loop.Yield();
                sum += i;
            });
            Assert.Equal(5050, sum);
        });
    }
}
