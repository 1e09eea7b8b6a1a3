using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Groups;

/// <summary>JoinAll and JoinAllAsync, which join through a <see cref="GreenletGroup"/> of their own.</summary>
public sealed class JoinAllTests
{
    [Fact]
    public void JoinAll_RaiseError_RethrowsFirstFailureAsThrown_OthersKeepRunning()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = _ => { } });
        var boom = new InvalidDataException("boom");
        Greenlet slow = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
        Greenlet bad = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1));
            throw boom;
        });

        Exception thrown = Assert.Throws<InvalidDataException>(() => loop.JoinAll([slow, bad], raiseError: true));

        Assert.Same(boom, thrown);
        Assert.False(slow.IsCompleted);
        slow.Kill();
        Assert.Equal([slow], loop.JoinAll([slow], raiseError: true)); // a kill is not a failure
    }

    [Fact]
    public void JoinAll_RaiseError_AlreadyFailed_RethrowsWithoutWaiting()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = _ => { } });
        var boom = new FormatException();
        Greenlet bad = loop.Spawn(() => throw boom);
        loop.JoinAll([bad]);
        Greenlet slow = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());

        Assert.Same(boom, Assert.Throws<FormatException>(() => loop.JoinAll([slow, bad], raiseError: true)));
        Assert.False(slow.IsCompleted);
        slow.Kill();
        loop.JoinAll([slow]);
    }

    [Fact]
    public void JoinAllAsync_Timeout_GreenletFinishingLater_IsNotHeldByTheJoin()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            Greenlet late = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(5)).AsTask());
            Greenlet soon = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());

            IReadOnlyList<Greenlet> done = await loop.JoinAllAsync([late, soon], TimeSpan.FromSeconds(2));
            Assert.Equal([soon], done);

            await late;
            Assert.True(late.Succeeded);
            Assert.Equal([late], await loop.JoinAllAsync([late], TimeSpan.Zero));
        });
    }

    [Fact]
    public void JoinAll_LoopStopped_ReturnsWhatFinished()
    {
        using Loop loop = SyncTestLoop.Create();
        Greenlet forever = loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        Greenlet done = loop.Spawn(() => Task.CompletedTask);
        Greenlet stopper = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1));
            loop.Stop();
        });

        IReadOnlyList<Greenlet> finished = loop.JoinAll([forever, done, stopper]);

        Assert.Equal([done, stopper], finished);
        forever.Kill();
        Assert.Equal([forever], loop.JoinAll([forever]));
    }

    [Fact]
    public void JoinAll_GreenletOfAnotherLoop_ThrowsArgumentException()
    {
        using Loop loop = SyncTestLoop.Create();
        using Loop other = SyncTestLoop.Create();
        Greenlet foreign = other.Spawn(() => Task.CompletedTask);

        Assert.Throws<ArgumentException>(() => loop.JoinAll([foreign]));
        Assert.Throws<ArgumentException>(() => { _ = loop.JoinAllAsync([foreign]); });
        other.JoinAll([foreign]);
    }
}
