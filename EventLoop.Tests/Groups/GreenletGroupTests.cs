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
}
