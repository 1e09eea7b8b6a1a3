namespace EventLoop.Tests.Core;

/// <summary>
/// A greenlet killed or timed out while it awaits something the loop does not own (a
/// TaskCompletionSource, Task.Delay) completes as killed within one iteration; its body is
/// detached: later loop waits fail at once, its late outcome is dropped, its finally blocks run
/// when the foreign task completes.
/// </summary>
public sealed class ForeignAwaitKillTests
{
    [Fact]
    public void Kill_WhileAwaitingTaskCompletionSource_CompletesAsKilledWithinOneIteration()
    {
        var unhandled = new List<Exception>();
        using var loop = new Loop(new LoopOptions { UnhandledException = unhandled.Add });
        var tcs = new TaskCompletionSource();
        bool finallyRan = false;
        Exception? laterWait = null;
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await tcs.Task;
                laterWait = await Record.ExceptionAsync(async () => await loop.Sleep(TimeSpan.FromHours(1)));
                throw new InvalidOperationException("a late failure of a detached body");
            }
            finally
            {
                finallyRan = true;
            }
        });
        loop.RunOnce(TimeSpan.Zero); // starts the body, which suspends on the foreign task

        g.Kill();
        loop.RunOnce(TimeSpan.Zero);

        Assert.True(g.IsCompleted);
        Assert.False(g.Succeeded);
        Assert.True(g.IsKilled);
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.True(g.Task.IsCanceled);
        Assert.False(finallyRan); // the body is detached, still suspended in its await

        tcs.SetResult();
        for (int i = 0; i < 5 && !finallyRan; i++)
        {
            loop.RunOnce(TimeSpan.FromSeconds(5));
        }

        Assert.True(finallyRan);
        Assert.IsAssignableFrom<OperationCanceledException>(laterWait); // fails at once, not after an hour
        Assert.Empty(unhandled); // the detached body's late failure is dropped
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
    }

    [Fact]
    public void Kill_WhileAwaitingTaskDelay_DoesNotWaitTheDelayOut()
    {
        using var loop = new Loop();
        Greenlet d = loop.Spawn(async () => await Task.Delay(TimeSpan.FromMinutes(5)));
        loop.RunOnce(TimeSpan.Zero);

        d.Kill();
        loop.RunOnce(TimeSpan.Zero);

        Assert.True(d.IsCompleted);
        Assert.False(d.Succeeded);
        Assert.IsAssignableFrom<OperationCanceledException>(d.Exception);
    }

    [Fact]
    public void KillAsync_WhileAwaitingTaskDelay_CompletesFromInsideTheLoop()
    {
        using Loop loop = LoopAssert.Virtual();
        loop.Run(async () =>
        {
            Greenlet d = loop.Spawn(async () => await Task.Delay(TimeSpan.FromMinutes(5)));
            await loop.Yield();
            await d.KillAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(d.Succeeded);
            Assert.IsAssignableFrom<OperationCanceledException>(d.Exception);
        });
    }

    [Fact]
    public void Kill_BodySwallowsTheKillAndReturns_StillNotSucceeded()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet<int> g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            catch (OperationCanceledException)
            {
            }

            return 7;
        });
        loop.RunOnce(TimeSpan.Zero);

        g.Kill();
        loop.JoinAll([g]);

        Assert.False(g.Succeeded);
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.ThrowsAny<OperationCanceledException>(() => g.Value);
    }

    [Fact]
    public void Kill_BodyThrowsSomethingElseAfterTheKill_EndsKilledWithItAsTheInnerException()
    {
        using Loop loop = LoopAssert.Virtual();
        var cleanupError = new InvalidOperationException("cleanup failed");
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            finally
            {
                throw cleanupError;
            }
        });
        loop.RunOnce(TimeSpan.Zero);

        g.Kill();
        loop.JoinAll([g]);

        OperationCanceledException killed = Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.Same(cleanupError, killed.InnerException);
    }

    [Fact]
    public void Kill_WhileRunnable_LetsTheBodyRunItsFinallyFirst()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Yield(); // queued to run again: not a foreign await
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            finally
            {
                order.Add("finally");
            }
        });
        g.Link(_ => order.Add("completed"));
        loop.RunOnce(TimeSpan.Zero);

        g.Kill();
        loop.JoinAll([g]);

        Assert.Equal(["finally", "completed"], order);
        Assert.False(g.Succeeded);
    }

    [Fact]
    public void FailAfter_WhileAwaitingAForeignTask_EndsTheGreenletAsKilledAtTheDeadline()
    {
        using Loop loop = LoopAssert.Virtual();
        var never = new TaskCompletionSource();
        Greenlet g = loop.Spawn(async () =>
        {
            using (loop.FailAfter(TimeSpan.FromSeconds(2)))
            {
                await never.Task;
            }
        });

        loop.JoinAll([g]);

        Assert.Equal(TimeSpan.FromSeconds(2), loop.Now);
        Assert.True(g.IsKilled);
        OperationCanceledException killed = Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.IsType<LoopTimeoutException>(killed.InnerException);
    }

    [Fact]
    public void MoveOnAfter_WithTheTokenPassedToTheForeignAwait_MovesOn()
    {
        using Loop loop = LoopAssert.Virtual();
        bool? done = null;
        Greenlet g = loop.Spawn(async () =>
        {
            done = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), ct => Task.Delay(Timeout.InfiniteTimeSpan, ct));
            await loop.Sleep(TimeSpan.FromSeconds(1)); // the greenlet carries on
        });

        loop.JoinAll([g]);

        Assert.False(done);
        Assert.True(g.Succeeded);
    }

    [Fact]
    public void FailAfter_CaughtInsideTheBody_DoesNotDetachTheGreenlet()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet<string> g = loop.Spawn(async () =>
        {
            try
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await loop.Sleep(TimeSpan.FromHours(1));
                }
            }
            catch (LoopTimeoutException)
            {
            }

            await Task.Yield(); // a foreign await after the scope was left is none of its business
            await loop.Sleep(TimeSpan.FromSeconds(1));
            return "carried on";
        });

        loop.JoinAll([g]);

        Assert.Equal("carried on", g.Value);
    }

    [Fact]
    public void TaskScope_ChildFails_BodyInAForeignAwaitThatEndsWhenTheChildUnwinds_IsNotDetached()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        loop.Run(async () =>
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(async scope =>
            {
                var unwound = new TaskCompletionSource();
                _ = scope.Spawn(async () =>
                {
                    try
                    {
                        await loop.Sleep(TimeSpan.FromHours(1));
                    }
                    finally
                    {
                        await Task.Yield(); // unwinding takes a few iterations
                        await Task.Yield();
                        order.Add("child unwound");
                        unwound.SetResult();
                    }
                });
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw new InvalidDataException("fails");
                });

                await unwound.Task; // not a loop wait: the scope's cancel cannot interrupt it
                order.Add("body saw the child end");
            }));
            order.Add("scope ended");
        });

        Assert.Equal(["child unwound", "body saw the child end", "scope ended"], order);
    }

    [Fact]
    public void TaskScope_ChildFails_BodyAwaitingAnotherChild_IsInterruptedAndTheScopeStillWaitsForIt()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        loop.Run(async () =>
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(async scope =>
            {
                Greenlet slowToUnwind = scope.Spawn(async () =>
                {
                    try
                    {
                        await loop.Sleep(TimeSpan.FromHours(1));
                    }
                    finally
                    {
                        await Task.Yield();
                        await Task.Yield();
                        order.Add("child unwound");
                    }
                });
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw new InvalidDataException("fails");
                });
                try
                {
                    await slowToUnwind; // a loop wait of the body: the scope's cancel ends it
                }
                catch (ScopeCanceledException)
                {
                    order.Add("body interrupted");
                    throw;
                }
            }));
            order.Add("scope ended");
        });

        Assert.Equal(["body interrupted", "child unwound", "scope ended"], order);
    }

    [Fact]
    public void MoveOnAfter_BodyInAForeignAwait_MovesOnAtTheDeadline_AndTheAbandonedBodysLaterWaitsFailAtOnce()
    {
        var unhandled = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = unhandled.Add });
        var never = new TaskCompletionSource();
        Exception? bodyLaterWait = null;
        bool? done = null;
        TimeSpan movedOnAt = TimeSpan.Zero;
        Greenlet g = loop.Spawn(async () =>
        {
            done = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () =>
            {
                await never.Task; // not a loop wait: the deadline cannot interrupt it
                bodyLaterWait = await Record.ExceptionAsync(async () => await loop.Sleep(TimeSpan.FromHours(1)));
                throw new InvalidOperationException("a late failure of an abandoned body");
            });
            movedOnAt = loop.Now;
            await loop.Sleep(TimeSpan.FromSeconds(1)); // the greenlet carries on, its own waits work
        });

        loop.JoinAll([g]);
        Assert.False(done);
        Assert.Equal(TimeSpan.FromSeconds(1), movedOnAt);
        Assert.True(g.Succeeded);

        never.SetResult(); // the abandoned body resumes on the loop
        for (int i = 0; i < 5 && bodyLaterWait is null; i++)
        {
            loop.RunOnce(TimeSpan.FromSeconds(5));
        }

        Assert.IsType<LoopTimeoutException>(bodyLaterWait);
        Assert.Empty(unhandled);
    }

    [Fact]
    public void MoveOnAfter_BodyInALoopWait_UnwindsBeforeMoveOnAfterReturns()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        Greenlet g = loop.Spawn(async () =>
        {
            bool done = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () =>
            {
                try
                {
                    await loop.Sleep(TimeSpan.FromHours(1));
                }
                finally
                {
                    order.Add("body finally");
                }
            });
            order.Add($"moved on: {done}");
        });

        loop.JoinAll([g]);

        Assert.Equal(["body finally", "moved on: False"], order);
    }
}
