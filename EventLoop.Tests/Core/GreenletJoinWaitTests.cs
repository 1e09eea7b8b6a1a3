namespace EventLoop.Tests.Core;

/// <summary>
/// <c>await greenlet</c> by another greenlet of the same loop is a loop wait of the awaiting
/// greenlet: its kill and its cancel scopes end the await (gevent's join interrupted by a kill or a
/// Timeout), the awaited greenlet keeps running, and a dump names what it waits for.
/// </summary>
public sealed class GreenletJoinWaitTests
{
    [Fact]
    public void FailAfter_AroundAwaitOfAGreenlet_ThrowsTheTimeoutThere_AndTheAwaitedKeepsRunning()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet<int>? slow = null;
        CancelScope? scope = null;
        Exception? caught = null;
        Greenlet parent = loop.Spawn(async () =>
        {
            slow = loop.Spawn(async () =>
            {
                await loop.Sleep(TimeSpan.FromSeconds(10));
                return 7;
            });
            try
            {
                using (scope = loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await slow;
                }
            }
            catch (LoopTimeoutException ex)
            {
                caught = ex;
            }

            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
            Assert.Equal(7, await slow); // the awaited greenlet was not touched
        });

        loop.JoinAll([parent]);

        Assert.True(parent.Succeeded);
        Assert.Same(scope, Assert.IsType<LoopTimeoutException>(caught).Scope);
        Assert.Equal(TimeSpan.FromSeconds(10), loop.Now);
    }

    [Fact]
    public void MoveOnAfter_AroundAwaitOfAGreenlet_MovesOn()
    {
        using Loop loop = LoopAssert.Virtual();
        bool? finished = null;
        Greenlet parent = loop.Spawn(async () =>
        {
            Greenlet slow = loop.Spawn(() => loop.Sleep(TimeSpan.FromMinutes(1)).AsTask());
            finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () => await slow);
            slow.Kill();
        });

        loop.JoinAll([parent]);

        Assert.False(finished);
        Assert.True(parent.Succeeded);
    }

    [Fact]
    public void Kill_WhileAwaitingAGreenlet_EndsTheAwaitWithTheKill_FinallyRunsInOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        Greenlet? child = null;
        Greenlet parent = loop.Spawn(async () =>
        {
            child = loop.Spawn(() => loop.Sleep(TimeSpan.FromMinutes(1)).AsTask());
            try
            {
                await child;
            }
            finally
            {
                order.Add("parent finally");
            }
        });
        parent.Link(_ => order.Add("parent completed"));
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);

        parent.Kill();
        loop.JoinAll([parent]);

        Assert.Equal(["parent finally", "parent completed"], order);
        Assert.IsAssignableFrom<OperationCanceledException>(parent.Exception);
        Assert.False(child!.IsCompleted); // killing the awaiter does not kill the awaited
        child.Kill();
        loop.JoinAll([child]);
    }

    [Fact]
    public void AwaitOfAGreenlet_AfterTheAwaiterWasKilled_ThrowsAtOnce()
    {
        using Loop loop = LoopAssert.Virtual();
        Exception? caught = null;
        Greenlet parent = loop.Spawn(async () =>
        {
            Greenlet child = loop.Spawn(() => loop.Sleep(TimeSpan.FromMinutes(1)).AsTask());
            Greenlet.Current!.Kill();
            try
            {
                await child;
            }
            catch (OperationCanceledException ex)
            {
                caught = ex;
            }

            child.Kill();
        });

        loop.JoinAll([parent]);

        Assert.IsAssignableFrom<OperationCanceledException>(caught);
        Assert.Equal(TimeSpan.Zero, loop.Now);
    }

    [Fact]
    public void Dump_NamesTheGreenletAwaited()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet child = loop.Spawn(() => loop.Sleep(TimeSpan.FromMinutes(1)).AsTask());
        child.Name = "worker";
        Greenlet parent = loop.Spawn(async () => await child);
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);

        GreenletInfo info = loop.GetGreenlets().Single(g => g.Id == parent.Id);

        Assert.Equal($"await worker (#{child.Id})", info.WaitingOn);
        child.Kill();
        loop.JoinAll([parent, child]);
    }
}
