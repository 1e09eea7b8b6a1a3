namespace EventLoop.Tests.Sync;

public sealed class LoopQueueTests
{
    [Fact]
    public void GetAsync_ReceivesItemsInPutOrder_GettersServedFifo()
    {
        using Loop loop = SyncTestLoop.Create();
        var got = new List<(int Getter, int Item)>();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            var getters = Enumerable.Range(0, 3).Select(g => loop.Spawn(async () => got.Add((g, await q.GetAsync())))).ToList();
            await loop.Settle();
            Assert.Equal(3, q.WaitingGetters);
            q.TryPut(10);
            q.TryPut(11);
            q.TryPut(12);
            q.TryPut(13);
            await loop.JoinAllAsync(getters, raiseError: true);
            Assert.Equal(1, q.Count);
            Assert.True(q.TryGet(out int left));
            Assert.Equal(13, left);
            Assert.False(q.TryGet(out _));
        });
        Assert.Equal([(0, 10), (1, 11), (2, 12)], got);
    }

    [Fact]
    public void PutAsync_Bounded_WaitsWhileFull_PuttersServedFifo()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop, capacity: 2);
            await q.PutAsync(1);
            await q.PutAsync(2);
            Assert.False(q.TryPut(99));
            Greenlet p3 = loop.Spawn(async () => await q.PutAsync(3));
            Greenlet p4 = loop.Spawn(async () => await q.PutAsync(4));
            await loop.Settle();
            Assert.Equal(2, q.WaitingPutters);
            Assert.False(p3.IsCompleted);
            Assert.Equal(1, await q.GetAsync());
            await loop.Settle();
            Assert.True(p3.IsCompleted);
            Assert.False(p4.IsCompleted);
            var rest = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                rest.Add(await q.GetAsync());
            }

            Assert.Equal([2, 3, 4], rest);
            await p4;
        });
    }

    [Fact]
    public void Complete_DrainsThenThrows_AndAwaitForeachEnds()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            var seen = new List<int>();
            Greenlet consumer = loop.Spawn(async () =>
            {
                await foreach (int item in q)
                {
                    seen.Add(item);
                }
            });
            for (int i = 0; i < 5; i++)
            {
                await q.PutAsync(i);
                if (i % 2 == 0)
                {
                    await loop.Yield();
                }
            }

            q.Complete();
            await consumer;
            Assert.Equal([0, 1, 2, 3, 4], seen);
            await Assert.ThrowsAsync<LoopQueueCompletedException>(async () => await q.GetAsync());
            await Assert.ThrowsAsync<LoopQueueCompletedException>(async () => await q.PutAsync(1));
            Assert.False(q.TryPut(1));
        });
    }

    [Fact]
    public void Complete_FailsWaitingGettersAndPutters()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var empty = new LoopQueue<int>(loop);
            Greenlet getter = loop.Spawn(async () => await empty.GetAsync());
            var full = new LoopQueue<int>(loop, 1);
            full.TryPut(1);
            Greenlet putter = loop.Spawn(async () => await full.PutAsync(2));
            await loop.Settle();
            empty.Complete();
            full.Complete();
            await loop.Settle();
            Assert.IsType<LoopQueueCompletedException>(getter.Exception);
            Assert.IsType<LoopQueueCompletedException>(putter.Exception);
            Assert.Equal(1, await full.GetAsync());
        });
    }

    [Fact]
    public void PriorityQueue_ReturnsSmallestFirst_TiesInPutOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        var q = new PriorityLoopQueue<(int Priority, string Name)>(loop, Comparer<(int Priority, string Name)>.Create((a, b) => a.Priority.CompareTo(b.Priority)));
        q.TryPut((3, "c"));
        q.TryPut((1, "a1"));
        q.TryPut((2, "b"));
        q.TryPut((1, "a2"));
        var names = new List<string>();
        while (q.TryGet(out var item))
        {
            names.Add(item.Name);
        }

        Assert.Equal(["a1", "a2", "b", "c"], names);
    }

    [Fact]
    public void LifoQueue_ReturnsNewestFirst()
    {
        using Loop loop = SyncTestLoop.Create();
        var q = new LifoLoopQueue<int>(loop);
        q.TryPut(1);
        q.TryPut(2);
        q.TryPut(3);
        Assert.True(q.TryGet(out int a));
        Assert.True(q.TryGet(out int b));
        Assert.Equal((3, 2), (a, b));
    }

    [Fact]
    public void JoinableQueue_JoinWaitsForTaskDone()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new JoinableLoopQueue<int>(loop);
            Assert.True(await q.JoinAsync(TimeSpan.Zero));
            int processed = 0;
            Greenlet worker = loop.Spawn(async () =>
            {
                await foreach (int item in q)
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    processed += item;
                    q.TaskDone();
                }
            });
            for (int i = 1; i <= 3; i++)
            {
                await q.PutAsync(i);
            }

            Assert.Equal(3, q.UnfinishedTasks);
            Assert.False(await q.JoinAsync(TimeSpan.FromMilliseconds(1500)));
            Assert.True(await q.JoinAsync());
            Assert.Equal(6, processed);
            Assert.Throws<InvalidOperationException>(q.TaskDone);
            q.Complete();
            await worker;
        });
    }

    [Fact]
    public void Channel_PutWaitsForGetter()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ch = new LoopChannel<string>(loop);
            Assert.False(ch.TryPut("nobody listens"));
            Greenlet putter = loop.Spawn(async () => await ch.PutAsync("hello"));
            await loop.Settle();
            Assert.False(putter.IsCompleted);
            Assert.Equal(1, ch.WaitingPutters);
            Assert.Equal("hello", await ch.GetAsync());
            await loop.Settle();
            Assert.True(putter.Succeeded);

            Greenlet<string> getter = loop.Spawn(async () => await ch.GetAsync());
            await loop.Settle();
            Assert.True(ch.TryPut("direct"));
            Assert.Equal("direct", await getter);
        });
    }

    [Fact]
    public void Channel_TryGet_TakesAWaitingPuttersItemOnly()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ch = new LoopChannel<int>(loop);
            Assert.False(ch.TryGet(out _));
            Greenlet putter = loop.Spawn(async () => await ch.PutAsync(7));
            await loop.Settle();

            Assert.True(ch.TryGet(out int item));
            Assert.Equal(7, item);
            await loop.Settle();
            Assert.True(putter.Succeeded);
        });
    }

    [Fact]
    public void Channel_IsItsOwnType_StorageMembersOnlyAsObsoleteForwarders()
    {
        Assert.False(typeof(LoopQueue<int>).IsAssignableFrom(typeof(LoopChannel<int>)));
        foreach (string name in new[] { "Count", "Capacity" })
        {
            Assert.NotNull(typeof(LoopChannel<int>).GetProperty(name)!.GetCustomAttributes(typeof(ObsoleteAttribute), false).SingleOrDefault());
        }
    }

    [Theory]
    [InlineData(typeof(LoopQueue<int>))]
    [InlineData(typeof(LifoLoopQueue<int>))]
    [InlineData(typeof(PriorityLoopQueue<int>))]
    [InlineData(typeof(JoinableLoopQueue<int>))]
    [InlineData(typeof(LoopChannel<int>))]
    [InlineData(typeof(LoopSemaphore))]
    [InlineData(typeof(BoundedLoopSemaphore))]
    public void PublicPrimitives_AreSealed(Type type) => Assert.True(type.IsSealed);

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    public void GetAsync_PerCallTimeout_ThrowsLoopTimeoutExceptionWithoutScope(int seconds)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            LoopTimeoutException error = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await q.GetAsync(TimeSpan.FromSeconds(seconds)));
            Assert.Null(error.Scope);
            Assert.Equal(0, q.WaitingGetters);
        });
    }
}
