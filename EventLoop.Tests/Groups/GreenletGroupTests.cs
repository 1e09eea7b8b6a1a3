using EventLoop.Coroutines;
using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Groups;

public sealed class GreenletGroupTests
{
    [Fact]
    public void Members_LeaveWhenFinished_JoinWaitsForAll()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            _ = group.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            Greenlet<int> b = group.Spawn(async () =>
            {
                await loop.Sleep(TimeSpan.FromSeconds(2));
                return 2;
            });
            Assert.Equal(2, group.Count);
            Assert.False(await group.JoinAsync(TimeSpan.FromMilliseconds(1500)));
            _ = Assert.Single(group);
            Assert.True(group.Contains(b));
            Assert.True(await group.JoinAsync());
            Assert.Empty(group);
        });
    }

    [Fact]
    public void JoinAsync_RaiseError_ThrowsFirstFailure()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            var boom = new InvalidDataException("x");
            _ = group.Spawn(async () =>
            {
                await loop.Sleep(TimeSpan.FromSeconds(1));
                throw boom;
            });
            _ = group.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            Assert.Same(boom, await Assert.ThrowsAsync<InvalidDataException>(async () => await group.JoinAsync(raiseError: true)));
            Assert.True(await group.KillAllAsync());
            Assert.Empty(group);
        });
    }

    [Fact]
    public void KillAll_KillsEveryMember()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            var members = Enumerable.Range(0, 3).Select(_ => group.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask())).ToList();
            await loop.Settle();
            group.KillAll();
            Assert.True(await group.JoinAsync());
            Assert.All(members, m => Assert.IsAssignableFrom<OperationCanceledException>(m.Exception));
        });
    }

    [Fact]
    public void AddWithListener_MemberCompletes_ListenerRunsBeforeJoinReturns()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            var listener = new RecordingListener { Group = group };
            Greenlet member = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            group.Add(member, listener);
            Assert.Throws<ArgumentException>(() => group.Add(member, listener));

            Assert.True(await group.JoinAsync());

            Assert.Equal([member], listener.Completed);
            Assert.Equal(0, listener.CountWhenTold); // it had left the group when told
        });
    }

    [Fact]
    public void AddWithListener_KilledBeforeItStarted_ListenerIsTold()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            var listener = new RecordingListener();
            bool ran = false;
            Greenlet member = loop.Spawn(() =>
            {
                ran = true;
                return Task.CompletedTask;
            });
            group.Add(member, listener);

            group.KillAll();

            Assert.True(await group.JoinAsync(TimeSpan.Zero));
            Assert.Equal([member], listener.Completed);
            Assert.False(ran);
        });
    }

    [Fact]
    public void Discard_MemberWithListener_LeavesRunning_ListenerStillTold()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            var listener = new RecordingListener();
            Greenlet member = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            group.Add(member, listener);

            Assert.True(group.Discard(member));
            Assert.True(await group.JoinAsync(TimeSpan.Zero));
            Assert.Empty(listener.Completed);

            await member;
            Assert.Equal([member], listener.Completed);
        });
    }

    [Fact]
    public void NoLimit_NeverFull_SpawnAsyncAndWaitAvailableCompleteAtOnce()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            for (int i = 0; i < 100; i++)
            {
                Assert.True(group.SpawnAsync(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask()).IsCompletedSuccessfully);
            }

            Assert.Equal(0, group.Limit);
            Assert.False(group.IsFull);
            Assert.True(group.WaitAvailableAsync().IsCompletedSuccessfully);
            Assert.True(await group.KillAllAsync());
        });
    }

    [Fact]
    public void WaitAvailableAsync_PoolFull_CompletesWhenASlotFrees_WithoutTakingIt()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            GreenletGroup pool = new GreenletPool(loop, 1);
            Greenlet first = pool.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            ValueTask available = pool.WaitAvailableAsync();
            Assert.False(available.IsCompleted);

            await available;

            Assert.True(first.IsCompleted);
            Assert.Equal(1, pool.FreeCount);
            Assert.True(pool.TrySpawn(() => Task.CompletedTask, out _));
        });
    }

    private sealed class RecordingListener : IGreenletListener
    {
        public List<Greenlet> Completed { get; } = [];

        public int CountWhenTold { get; private set; } = -1;

        public GreenletGroup? Group { get; set; }

        public void OnGreenletCompleted(Greenlet greenlet)
        {
            Completed.Add(greenlet);
            CountWhenTold = Group?.Count ?? 0;
        }
    }
}
