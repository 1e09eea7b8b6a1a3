namespace EventLoop.Tests.Sync;

public sealed class LoopResultTests
{
    [Fact]
    public void SetResult_WakesWaiters_AndLaterGetsReturnAtOnce()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var result = new LoopResult<string>(loop);
            Greenlet<string> a = loop.Spawn(async () => await result.GetAsync());
            Greenlet<string> b = loop.Spawn(async () => await result.GetAsync());
            await loop.Settle();
            Assert.False(result.IsReady);
            result.SetResult("x");
            Assert.Equal("x", await a);
            Assert.Equal("x", await b);
            Assert.True(result.Succeeded);
            Assert.Equal("x", await result.GetAsync());
            Assert.Throws<InvalidOperationException>(() => result.SetResult("y"));
        });
    }

    [Fact]
    public void SetException_RethrowsTheSameException()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var result = new LoopResult<int>(loop);
            Greenlet<int> waiter = loop.Spawn(async () => await result.GetAsync());
            await loop.Settle();
            var boom = new InvalidDataException("boom");
            result.SetException(boom);
            Assert.Same(boom, await Assert.ThrowsAsync<InvalidDataException>(async () => await waiter));
            Assert.Same(boom, result.Exception);
            Assert.False(result.Succeeded);
            Assert.Same(boom, await Assert.ThrowsAsync<InvalidDataException>(async () => await result.GetAsync()));
        });
    }

    [Fact]
    public void GetAsync_Timeout_ThrowsLoopTimeoutExceptionWithoutScope()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var result = new LoopResult<int>(loop);
            LoopTimeoutException error = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await result.GetAsync(TimeSpan.FromSeconds(5)));
            Assert.Null(error.Scope);
            Assert.Equal(0, result.WaiterCount);
        });
    }
}
