using EventLoop.Tests.Core;

namespace EventLoop.Tests.Extending;

/// <summary>The lifecycle contract of <see cref="LoopWaitSource{TResult}"/> as a driver sees it.</summary>
public sealed class LoopWaitSourceTests
{
    [Fact]
    public void TrySetResult_FirstCompletionWins_ContinuationIsQueuedNotInline()
    {
        using Loop loop = LoopAssert.Virtual();
        var source = new ManualWait(loop);
        var order = new List<string>();
        loop.Run(async () =>
        {
            ValueTask<int> pending = source.Start(default);
            Assert.True(source.IsPending);
            Greenlet waiter = loop.Spawn(async () =>
            {
                int value = await pending;
                order.Add($"resumed {value}");
            });
            await loop.Yield();

            Assert.True(source.TrySetResult(1));
            order.Add("set");
            Assert.False(source.TrySetResult(2));
            Assert.False(source.TrySetException(new InvalidOperationException()));
            await waiter;
        });

        Assert.Equal(["set", "resumed 1"], order);
        Assert.Equal(1, source.Completions);
        Assert.Equal(1, source.ResultsTaken);
    }

    [Fact]
    public void Begin_WhilePending_Throws()
    {
        using Loop loop = LoopAssert.Virtual();
        var source = new ManualWait(loop);
        _ = source.Start(default);

        Assert.Throws<InvalidOperationException>(() => { _ = source.Start(default); });
    }

    [Fact]
    public void GetResult_SecondAwaitOfTheSameValueTask_Throws()
    {
        using Loop loop = LoopAssert.Virtual();
        var source = new ManualWait(loop);
        loop.Run(async () =>
        {
            ValueTask<int> pending = source.Start(default);
            source.TrySetResult(5);
            Assert.Equal(5, await pending);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await pending);
        });
    }

    [Fact]
    public void Kill_AbortsTheWaitOfItsGreenletWithoutAToken()
    {
        using Loop loop = LoopAssert.Virtual();
        var source = new ManualWait(loop);
        Greenlet blocked = loop.Spawn(async () => await source.Start(default));
        loop.Run(async () =>
        {
            await loop.Yield();
            await loop.Yield();
            blocked.Kill();
            await loop.JoinAllAsync([blocked]);
        });

        Assert.IsAssignableFrom<OperationCanceledException>(blocked.Exception);
        Assert.False(source.IsPending);
        Assert.Equal(1, source.Completions);
    }

    [Fact]
    public void Begin_InAKilledGreenlet_CompletesAtOnceAndArmsNothing()
    {
        using Loop loop = LoopAssert.Virtual();
        var source = new ManualWait(loop);
        bool? begun = null;
        Greenlet greenlet = loop.Spawn(async ct =>
        {
            await Task.Yield();
            try
            {
                await loop.Sleep(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                ValueTask<int> late = source.Start(default);
                begun = source.IsPending;
                await late;
            }
        });
        loop.Run(async () =>
        {
            await loop.Yield();
            await loop.Yield();
            greenlet.Kill();
            await loop.JoinAllAsync([greenlet]);
        });

        Assert.False(begun);
        Assert.IsAssignableFrom<OperationCanceledException>(greenlet.Exception);
        Assert.Equal(0, source.Completions);
    }

    private sealed class ManualWait(Loop loop) : LoopWaitSource<int>(loop)
    {
        public int Completions { get; private set; }

        public int ResultsTaken { get; private set; }

        public ValueTask<int> Start(CancellationToken cancellationToken)
        {
            Begin(cancellationToken);
            return new ValueTask<int>(this, Version);
        }

        protected override void OnCompleting() => Completions++;

        protected override void OnResultTaken() => ResultsTaken++;
    }
}
