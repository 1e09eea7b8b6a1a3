using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Timeouts;

public sealed class TimeoutTests
{
    [Fact]
    public void FailAfter_PendingSleep_ThrowsTimeoutAtTheVirtualDeadline()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                {
                    await loop.Sleep(TimeSpan.FromHours(1));
                }
            });
            Assert.Equal(TimeSpan.FromSeconds(5), loop.Now - start);
            Assert.NotNull(ex.Scope);
            Assert.True(ex.Scope!.TimedOut);
            // The scope is gone: later waits are unaffected.
            await loop.Sleep(TimeSpan.FromSeconds(10));
        });
    }

    [Fact]
    public void FailAfter_AppliesToQueueGetAndLock_AndToWaitsStartedAfterTheDeadline()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var q = new LoopQueue<int>(loop);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await q.GetAsync();
                }
            });
            Assert.Equal(0, q.WaitingGetters);

            var gate = new LoopLock(loop);
            gate.TryAcquire();
            using (CancelScope scope = loop.FailAfter(TimeSpan.FromSeconds(1)))
            {
                try
                {
                    await gate.AcquireAsync();
                }
                catch (TimeoutException)
                {
                }

                // Already expired: a new wait fails at once.
                await Assert.ThrowsAsync<LoopTimeoutException>(async () => await loop.Sleep(TimeSpan.FromSeconds(1)));
                Assert.True(scope.IsCancellationRequested);
            }

            Assert.Equal(0, gate.WaitingCount);
        });
    }

    [Fact]
    public void MoveOnAfter_ReturnsFalseWhenInterrupted_TrueWhenCompleted()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool done = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () => await loop.Sleep(TimeSpan.FromSeconds(10)));
            Assert.False(done);
            done = await loop.MoveOnAfter(TimeSpan.FromSeconds(10), async () => await loop.Sleep(TimeSpan.FromSeconds(1)));
            Assert.True(done);
            done = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async ct => await Task.Delay(TimeSpan.FromSeconds(10), loop.Time, ct));
            Assert.False(done);
        });
    }

    [Fact]
    public void NestedScopes_EarliestDeadlineWins_OuterErrorPassesThroughInner()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            // Inner earlier: the inner catches, the outer goes on.
            TimeSpan start = loop.Now;
            bool outerDone = await loop.MoveOnAfter(TimeSpan.FromSeconds(10), async () =>
            {
                bool innerDone = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () => await loop.Sleep(TimeSpan.FromHours(1)));
                Assert.False(innerDone);
                Assert.Equal(TimeSpan.FromSeconds(1), loop.Now - start);
            });
            Assert.True(outerDone);

            // Outer earlier: the inner helper does not swallow the outer's timeout.
            start = loop.Now;
            bool innerResult = true;
            outerDone = await loop.MoveOnAfter(TimeSpan.FromSeconds(2), async () =>
            {
                innerResult = await loop.MoveOnAfter(TimeSpan.FromSeconds(20), async () => await loop.Sleep(TimeSpan.FromHours(1)));
            });
            Assert.False(outerDone);
            Assert.True(innerResult);
            Assert.Equal(TimeSpan.FromSeconds(2), loop.Now - start);
        });
    }

    [Fact]
    public void FailAfter_OutsideAGreenlet_Throws()
    {
        using Loop loop = SyncTestLoop.Create();
        Assert.Throws<InvalidOperationException>(() => loop.FailAfter(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void TaskWaitAsync_OnLoopTime_TooSlowThrowsTimeoutException_FastOneReturns()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var slow = new TaskCompletionSource<int>();
            TimeSpan start = loop.Now;
            await Assert.ThrowsAsync<TimeoutException>(() => slow.Task.WaitAsync(TimeSpan.FromSeconds(3), loop.Time));
            Assert.Equal(TimeSpan.FromSeconds(3), loop.Now - start);
            Assert.Equal(7, await Task.FromResult(7).WaitAsync(TimeSpan.FromSeconds(3), loop.Time));
        });
    }

    [Fact]
    public void CancellationTokenSource_OnLoopTime_IsCanceledByLoopTimer()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), loop.Time);
            TimeSpan start = loop.Now;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await loop.Sleep(TimeSpan.FromHours(1), timeout.Token));
            Assert.Equal(TimeSpan.FromSeconds(2), loop.Now - start);

            using var later = new CancellationTokenSource(TimeSpan.FromSeconds(1), loop.Time);
            await loop.Sleep(TimeSpan.FromMilliseconds(500));
            Assert.False(later.IsCancellationRequested);
            await loop.Sleep(TimeSpan.FromMilliseconds(600));
            Assert.True(later.IsCancellationRequested);
        });
    }

#pragma warning disable CS0618 // the obsolete forwarders keep working for one release
    [Fact]
    public void ObsoleteForwarders_BehaveAsTheirReplacements()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var slow = new TaskCompletionSource<int>();
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(slow.Task, TimeSpan.FromSeconds(3)));
            Assert.Equal(7, await loop.WithTimeout(Task.FromResult(7), TimeSpan.FromSeconds(3)));
            await Assert.ThrowsAsync<TimeoutException>(async () => await loop.WithTimeout(loop.Sleep(TimeSpan.FromSeconds(9)), TimeSpan.FromSeconds(1)));

            CancellationToken token = loop.CreateTimeoutToken(TimeSpan.FromSeconds(2));
            TimeSpan start = loop.Now;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await loop.Sleep(TimeSpan.FromHours(1), token));
            Assert.Equal(TimeSpan.FromSeconds(2), loop.Now - start);

            using LoopTimeoutSource source = loop.CreateTimeoutSource(TimeSpan.FromSeconds(1));
            await loop.Sleep(TimeSpan.FromMilliseconds(1100));
            Assert.True(source.TimedOut);
        });
    }
#pragma warning restore CS0618

    [Fact]
    public void CancelScope_Cancel_InterruptsAndIsOwnError()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            using CancelScope scope = loop.OpenCancelScope();
            loop.CallLater(TimeSpan.FromSeconds(1), scope.Cancel);
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
                Assert.Fail("not interrupted");
            }
            catch (Exception ex) when (scope.IsOwnError(ex))
            {
                Assert.IsType<ScopeCanceledException>(ex);
#pragma warning disable CS0618 // the former name still catches it for one release
                Assert.IsAssignableFrom<ScopeCancelledException>(ex);
#pragma warning restore CS0618
            }

            Assert.True(scope.CanceledCaught);
        });
    }
}
