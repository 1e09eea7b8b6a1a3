using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Groups;

public sealed class TaskScopeTests
{
    [Fact]
    public void RunScopeAsync_WaitsForEveryChild()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            int done = 0;
            await loop.RunScopeAsync(scope =>
            {
                for (int i = 1; i <= 5; i++)
                {
                    int n = i;
                    _ = scope.Spawn(async () =>
                    {
                        await loop.Sleep(TimeSpan.FromSeconds(n));
                        done++;
                    });
                }

                return Task.CompletedTask;
            });
            Assert.Equal(5, done);
        });
    }

    [Fact]
    public void OneFailingChildAmongMany_KillsTheOthers_AndIsRethrownAsThrown()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var children = new List<Greenlet>();
            var boom = new InvalidDataException("child 7");
            TimeSpan start = loop.Now;
            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(async scope =>
            {
                for (int i = 0; i < 20; i++)
                {
                    int n = i;
                    children.Add(scope.Spawn(async () =>
                    {
                        await loop.Sleep(n == 7 ? TimeSpan.FromSeconds(1) : TimeSpan.FromHours(1));
                        if (n == 7)
                        {
                            throw boom;
                        }
                    }));
                }

                await loop.Sleep(TimeSpan.FromHours(2)); // interrupted by the failure
            }));
            Assert.Same(boom, ex);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now - start);
            Assert.All(children, c => Assert.True(c.IsCompleted));
            Assert.Equal(19, children.Count(c => c.Exception is OperationCanceledException));
        });
    }

    [Fact]
    public void SeveralFailures_BecomeAggregateException()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var ex = await Assert.ThrowsAsync<AggregateException>(() => loop.RunScopeAsync(async scope =>
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw new InvalidDataException("a");
                });
                try
                {
                    await loop.Sleep(TimeSpan.FromSeconds(2));
                }
                finally
                {
                    throw new FormatException("b"); // the body fails too, while the child's failure interrupts it
                }
            }));
            Assert.Equal(2, ex.InnerExceptions.Count);
        });
    }

    [Fact]
    public void ChildFailingAfterTheScopeKilledIt_EndsKilled_OnlyTheFirstFailureIsRethrown()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            Greenlet? second = null;
            await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(scope =>
            {
                // Both would fail in the same loop pass: the first failure kills the second
                // before its failure is seen, and a killed greenlet ends killed.
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw new InvalidDataException("a");
                });
                second = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw new FormatException("b");
                });
                return Task.CompletedTask;
            }));
            OperationCanceledException killed = Assert.IsAssignableFrom<OperationCanceledException>(second!.Exception);
            Assert.IsType<FormatException>(killed.InnerException);
        });
    }

    [Fact]
    public void BodyException_KillsChildren_AndIsRethrown()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            Greenlet? child = null;
            var boom = new InvalidDataException("body");
            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(async scope =>
            {
                child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                await loop.Sleep(TimeSpan.FromSeconds(1));
                throw boom;
            }));
            Assert.Same(boom, ex);
            Assert.IsAssignableFrom<OperationCanceledException>(child!.Exception);
        });
    }

    [Fact]
    public void AwaitUsing_WaitsForChildren_AndRethrowsChildFailure()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            int done = 0;
            await using (TaskScope scope = loop.OpenTaskScope())
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(3));
                    done++;
                });
            }

            Assert.Equal(1, done);

            var boom = new InvalidDataException("c");
            TaskScope? ended = null;
            var ex = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            {
                await using TaskScope scope = loop.OpenTaskScope();
                ended = scope;
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw boom;
                });
                _ = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            });
            Assert.Same(boom, ex);
            Assert.Throws<InvalidOperationException>(() => ended!.Spawn(() => Task.CompletedTask));
        });
    }

    [Fact]
    public void ParentKilledWhileEndingScope_KillsChildren()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            Greenlet? child = null;
            Greenlet parent = loop.Spawn(async () =>
            {
                await using TaskScope scope = loop.OpenTaskScope();
                child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            });
            await loop.Sleep(TimeSpan.FromSeconds(1));
            await parent.KillAsync();
            Assert.IsAssignableFrom<OperationCanceledException>(parent.Exception);
            Assert.True(child!.IsCompleted);
        });
    }

    [Fact]
    public void ParentKilledTwiceWhileItsChildUnwinds_EndsOnlyAfterTheChild()
    {
        // The scope's end waits for its killed children outside any loop wait; a second kill
        // finds nothing to abort there, and must not end the parent before its child has ended.
        // Once the scope has ended, that kill still reaches the parent's next foreign await.
        using var loop = new Loop();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        Greenlet? child = null;
        bool childEndedFirst = false;
        Greenlet parent = loop.Spawn(async () =>
        {
            try
            {
                await using TaskScope scope = loop.OpenTaskScope();
                child = scope.Spawn(async () =>
                {
                    try
                    {
                        await loop.Sleep(TimeSpan.FromHours(1));
                    }
                    finally
                    {
                        await release.Task; // unwinding takes a while, in an await the loop does not own
                    }
                });
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            finally
            {
                childEndedFirst = child!.IsCompleted;
                await never.Task; // nothing ends this: the second kill must detach the body here
            }
        });
        RunIterations(loop, 3);

        parent.Kill(); // the scope kills the child, whose finally now awaits `release`
        RunIterations(loop, 3);
        parent.Kill();
        RunIterations(loop, 3);

        Assert.False(parent.IsCompleted);
        Assert.False(child!.IsCompleted);
        release.SetResult();
        for (int i = 0; i < 500 && !parent.IsCompleted; i++)
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(10)); // bounded: ≤ 5 s for liveness only
        }

        Assert.True(child.IsCompleted);
        Assert.True(childEndedFirst);
        Assert.IsAssignableFrom<OperationCanceledException>(parent.Exception);
    }

    [Fact]
    public void RunScopeAsync_ChildFails_RethrownByTheScope_NotReportedToTheHandler()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        loop.Run(async () =>
        {
            var boom = new InvalidDataException("child");
            var ex = await Assert.ThrowsAsync<InvalidDataException>(() => loop.RunScopeAsync(async scope =>
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw boom;
                });
                await loop.Sleep(TimeSpan.FromHours(1));
            }));
            Assert.Same(boom, ex);
        });

        Assert.Empty(reported);
        Assert.Equal(0, loop.Statistics.LiveGreenlets);
    }

    [Fact]
    public void OpenTaskScope_NeverEnded_ItsGreenletEnds_ChildrenKilled_RecordedFailureReportedOnce()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        var boom = new InvalidDataException("child");
        Greenlet? sleeper = null;
        Greenlet opener = loop.Spawn(async () =>
        {
            TaskScope scope = loop.OpenTaskScope(); // never ended: a misuse the scope must survive
            sleeper = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            _ = scope.Spawn(() => throw boom);
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1)); // the child's failure cancels this wait
            }
            catch (ScopeCanceledException)
            {
            }
        });

        loop.JoinAll([opener], TimeSpan.FromHours(2));
        Assert.True(opener.Succeeded);

        // The scope cannot rethrow any more: the failure goes to the handler, once, and the
        // children do not outlive the greenlet that opened the scope.
        Assert.Same(boom, Assert.Single(reported));
        Assert.True(sleeper!.IsKilled);
        Assert.Equal(0, loop.Statistics.LiveGreenlets);
    }

    [Fact]
    public void OpenTaskScope_ChildFails_RethrownByTheScope_NotReportedToTheHandler()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        loop.Run(async () =>
        {
            var boom = new InvalidDataException("child");
            var ex = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            {
                await using TaskScope scope = loop.OpenTaskScope();
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw boom;
                });
                _ = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            });
            Assert.Same(boom, ex);
        });

        Assert.Empty(reported);
        Assert.Equal(0, loop.Statistics.LiveGreenlets);
    }

    [Fact]
    public void RunScopeAsync_ChildAndBodyFail_AggregateRethrown_NeitherReportedToTheHandler()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        loop.Run(async () =>
        {
            var childError = new InvalidDataException("child");
            var bodyError = new FormatException("body");
            var ex = await Assert.ThrowsAsync<AggregateException>(() => loop.RunScopeAsync(async scope =>
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw childError;
                });
                try
                {
                    await loop.Sleep(TimeSpan.FromHours(1));
                }
                finally
                {
                    throw bodyError; // the body fails too, while the child's failure interrupts it
                }
            }));
            Assert.Equal([childError, bodyError], ex.InnerExceptions);
        });

        Assert.Empty(reported);
    }

    [Fact]
    public void Cancel_KilledChildren_AreNotFailures_NothingRethrownOrReported()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        loop.Run(async () =>
        {
            Greenlet? child = null;
            await loop.RunScopeAsync(async scope =>
            {
                child = scope.Spawn(async () =>
                {
                    try
                    {
                        await loop.Sleep(TimeSpan.FromHours(1));
                    }
                    finally
                    {
                        await loop.Sleep(TimeSpan.FromSeconds(1)); // a killed greenlet's waits fail at once
                    }
                });
                await loop.Sleep(TimeSpan.FromSeconds(1));
                scope.Cancel();
            });
            Assert.True(child!.IsKilled);
            Assert.IsAssignableFrom<OperationCanceledException>(child.Exception);
        });

        Assert.Empty(reported);
    }

    [Fact]
    public void ParentKilledWhileEndingScopeAfterAChildFailed_TheScopeRethrowsTheKill_TheFailureIsReportedOnce()
    {
        // The scope cannot rethrow the child's failure (the waiting greenlet ends with its kill),
        // so the failure goes to the handler, exactly once.
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        var boom = new InvalidDataException("child");
        loop.Run(async () =>
        {
            Greenlet? parent = null;
            Greenlet? sibling = null;
            parent = loop.Spawn(async () =>
            {
                await using TaskScope scope = loop.OpenTaskScope();
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    parent!.Kill(); // interrupts the scope's end before the failure is recorded
                    throw boom;
                });
                sibling = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            });
            await Record.ExceptionAsync(async () => await parent);
            Assert.IsAssignableFrom<OperationCanceledException>(parent.Exception);
            Assert.True(sibling!.IsCompleted);
        });

        Assert.Equal([boom], reported);
    }

    [Fact]
    public void ParentDetachedAfterAChildFailed_TheFailureIsReportedOnce()
    {
        // The child's failure cancels the body, which awaits a task the loop does not own; a kill
        // then detaches the body, which may never reach the scope's end to rethrow the failure.
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        var boom = new InvalidDataException("child");
        loop.Run(async () =>
        {
            var release = new TaskCompletionSource();
            Greenlet parent = loop.Spawn(() => loop.RunScopeAsync(async scope =>
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw boom;
                });
                await release.Task;
            }));
            await loop.Sleep(TimeSpan.FromSeconds(2));
            Assert.False(parent.IsCompleted);
            await parent.KillAsync();
            Assert.Equal([boom], reported);

            release.SetResult(); // the detached body reaches the scope's end; its outcome is dropped
            await loop.Settle();
        });

        Assert.Equal([boom], reported);
        Assert.Equal(0, loop.Statistics.LiveGreenlets);
    }

    [Fact]
    public void ChildSpawnedAfterTheLastChildEndedButBeforeTheScopeEnds_IsWaitedFor_ItsFailureRethrown()
    {
        var reported = new List<Exception>();
        using Loop loop = CreateReportingLoop(reported);
        var boom = new InvalidDataException("late child");
        loop.Run(async () =>
        {
            var lastChildEnding = new LoopEvent(loop);
            TaskScope? open = null;
            Greenlet? late = null;
            Greenlet outsider = loop.Spawn(async () =>
            {
                await lastChildEnding.WaitAsync();
                // Runs after the last child ended and before the scope's end resumes.
                late = open!.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    throw boom;
                });
            });

            var ex = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            {
                await using TaskScope scope = loop.OpenTaskScope();
                open = scope;
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    lastChildEnding.Set();
                });
            });
            Assert.Same(boom, ex);
            Assert.True(late!.IsCompleted);
            Assert.True(outsider.Succeeded);
        });

        Assert.Empty(reported);
    }

    private static Loop CreateReportingLoop(List<Exception> reported) =>
        new(new LoopOptions { VirtualTime = true, UnhandledException = reported.Add });

    private static void RunIterations(Loop loop, int count)
    {
        for (int i = 0; i < count; i++)
        {
            loop.RunOnce(TimeSpan.Zero);
        }
    }

    [Fact]
    public void OpenScope_ObsoleteName_OpensATaskScope()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            int done = 0;
#pragma warning disable CS0618 // the former name is kept one release as a forwarder
            await using (TaskScope scope = loop.OpenScope())
#pragma warning restore CS0618
            {
                _ = scope.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    done++;
                });
            }

            Assert.Equal(1, done);
        });
    }
}
