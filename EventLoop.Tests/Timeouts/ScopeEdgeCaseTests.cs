using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Timeouts;

public sealed class ScopeEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public void FailAfter_OuterDisposedBeforeInner_InnerDeadlineStillAppliesAndNamesInner()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope outer = loop.FailAfter(TimeSpan.FromSeconds(5));
            CancelScope inner = loop.FailAfter(TimeSpan.FromSeconds(10));
            outer.Dispose();
            await loop.Sleep(TimeSpan.FromSeconds(7)); // past the outer's deadline: it no longer applies
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await loop.Sleep(TimeSpan.FromSeconds(7)));
            Assert.Same(inner, ex.Scope);
            inner.Dispose();
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });
    }

    [Fact]
    public void FailAfter_TimeSpanMaxValue_IsAScopeThatNeverExpires_LikeSleep()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1)); // Now > 0: Now + MaxValue overflows
            using (CancelScope scope = loop.FailAfter(TimeSpan.MaxValue))
            {
                Assert.Equal(TimeSpan.MaxValue, scope.Deadline);
                await loop.Sleep(TimeSpan.FromSeconds(1));
            }

            Assert.True(await loop.MoveOnAfter(TimeSpan.MaxValue, async () => await loop.Sleep(TimeSpan.FromSeconds(1))));
            Assert.Equal(0, loop.Statistics.TimersPending);
        });
    }

    [Fact]
    public void FailAfter_LoopTimeDelayDueAtTheDeadline_DelayCompletes_GreenletNotKilled()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool after = false;
            Greenlet g = loop.Spawn(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), loop.Time);
                }

                after = true;
                await loop.Sleep(TimeSpan.FromSeconds(1));
            });
            await Record.ExceptionAsync(async () => await g);
            Assert.False(g.IsKilled, g.Exception?.ToString());
            Assert.True(after);
        });
    }

    [Fact]
    public void FailAfter_DeadlineAndPutAtTheSameInstant_ItemIsNeverLost()
    {
        foreach (bool putterFirst in new[] { true, false })
        {
            using Loop loop = SyncTestLoop.Create();
            loop.Run(async () =>
            {
                var q = new LoopQueue<int>(loop);
                int got = -1;
                Greenlet? putter = null;
                if (putterFirst)
                {
                    putter = loop.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(5)); q.TryPut(42); });
                    await loop.Yield();
                }

                Greenlet getter = loop.Spawn(async () =>
                {
                    using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                    {
                        got = await q.GetAsync();
                    }
                });
                await loop.Yield();
                putter ??= loop.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(5)); q.TryPut(42); });
                await loop.JoinAllAsync([getter, putter]);
                Assert.True(got == 42 || q.Count == 1, $"putterFirst={putterFirst}: got {got}, queue {q.Count}");
            });
        }
    }

    [Fact]
    public void MoveOnAfter_BodyCatchesTimeoutAndReturns_ReportsFinished()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool caught = false;
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () =>
            {
                try
                {
                    await loop.Sleep(TimeSpan.FromSeconds(10));
                }
                catch (LoopTimeoutException)
                {
                    caught = true;
                }
            });
            Assert.True(caught);
            Assert.True(finished);
            await loop.Sleep(TimeSpan.FromSeconds(1)); // no scope left behind
        });
    }

    [Fact]
    public void MoveOnAfter_BodyCatchesTimeoutThenWaitsAgain_MovesOnAtOnce()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () =>
            {
                try
                {
                    await loop.Sleep(TimeSpan.FromSeconds(10));
                }
                catch (LoopTimeoutException)
                {
                }

                await loop.Sleep(TimeSpan.FromSeconds(10));
            });
            Assert.False(finished);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now - start);
        });
    }

    [Fact]
    public void MoveOnAfter_InsideEarlierFailAfter_OuterTimeoutPassesThrough()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? outer = null;
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (outer = loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await loop.MoveOnAfter(TimeSpan.FromSeconds(5), async () => await loop.Sleep(TimeSpan.FromSeconds(10)));
                }
            });
            Assert.Same(outer, ex.Scope);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
        });
    }

    [Fact]
    public void MoveOnAfter_InsideFailAfter_EqualDeadlines_OuterWins()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? outer = null;
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (outer = loop.FailAfter(TimeSpan.FromSeconds(5)))
                {
                    await loop.MoveOnAfter(TimeSpan.FromSeconds(5), async () => await loop.Sleep(TimeSpan.FromSeconds(10)));
                }
            });
            Assert.Same(outer, ex.Scope);
        });
    }

    [Fact]
    public void FailAfter_InsideMoveOnAfter_EqualDeadlines_MovesOn()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(5), async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                {
                    await loop.Sleep(TimeSpan.FromSeconds(10));
                }
            });
            Assert.False(finished);
        });
    }

    [Fact]
    public void MoveOnAfter_BodyInLoopTimeDelay_MovesOnAtTheDeadline()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () => await Task.Delay(TimeSpan.FromSeconds(10), loop.Time));
            Assert.False(finished);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });
    }

    [Fact]
    public void MoveOnAfter_TokenBody_LoopTimeCtsLinkedToken_MovesOn()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async ct => await Task.Delay(TimeSpan.FromSeconds(10), loop.Time, ct));
            Assert.False(finished);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
        });
    }

    [Fact]
    public void FailAfter_InPostCallback_ThrowsInvalidOperation_TaskScopeWorks()
    {
        using Loop loop = SyncTestLoop.Create();
        Exception? error = null;
        loop.Post(() => error = Record.Exception(() => loop.FailAfter(TimeSpan.FromSeconds(1))));
        loop.RunOnce(TimeSpan.Zero);
        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void Cancel_FromAnotherGreenlet_InterruptsWithScopeCanceled_AfterDispose_NoEffect()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? scope = null;
            Exception? seen = null;
            Greenlet g = loop.Spawn(async () =>
            {
                using (scope = loop.OpenCancelScope())
                {
                    seen = await Record.ExceptionAsync(async () => await loop.Sleep(TimeSpan.FromSeconds(10)));
                }

                await loop.Sleep(TimeSpan.FromSeconds(1));
            });
            await loop.Yield();
            scope!.Cancel();
            await g;
            var sce = Assert.IsType<ScopeCanceledException>(seen);
            Assert.Same(scope, sce.Scope);
            Assert.False(scope.TimedOut);
            scope.Cancel();
            Assert.True(g.Succeeded);
        });
    }

    [Fact]
    public void RunScopeAsync_ChildFails_BodyInterrupted_OriginalExceptionSurfaces_LateSpawnKilled()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var boom = new InvalidOperationException("boom");
            Greenlet? sibling = null;
            Greenlet? late = null;
            bool bodyInterrupted = false;
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.RunScopeAsync(async scope =>
            {
                sibling = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                _ = scope.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(1)); throw boom; });
                try
                {
                    await loop.Sleep(TimeSpan.FromHours(1));
                }
                catch (ScopeCanceledException)
                {
                    bodyInterrupted = true;
                }

                late = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            }));
            Assert.Same(boom, ex);
            Assert.True(bodyInterrupted);
            Assert.True(sibling!.IsKilled);
            Assert.True(late!.IsCompleted);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
        });
    }

    [Fact]
    public void RunScopeAsync_InsideFailAfter_DeadlineKillsChildren_TimeoutSurfaces()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? fa = null;
            Greenlet? child = null;
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (fa = loop.FailAfter(TimeSpan.FromSeconds(2)))
                {
                    await loop.RunScopeAsync(async scope =>
                    {
                        child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                        await child;
                    });
                }
            });
            Assert.Same(fa, ex.Scope);
            Assert.True(child!.IsKilled);
            Assert.Equal(TimeSpan.FromSeconds(2), loop.Now);
        });
    }

    [Fact]
    public void AwaitUsingTaskScope_InsideFailAfter_DeadlineWhileJoining_KillsChildren_TimeoutSurfaces()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? fa = null;
            Greenlet? child = null;
            var ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (fa = loop.FailAfter(TimeSpan.FromSeconds(2)))
                {
                    await using TaskScope scope = loop.OpenTaskScope();
                    child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                }
            });
            Assert.Same(fa, ex.Scope);
            Assert.True(child!.IsKilled);
            Assert.Equal(TimeSpan.FromSeconds(2), loop.Now);
        });
    }

    [Fact]
    public void GroupJoinAsync_RaiseError_KilledMemberIsNotAFailure_FailedMemberIs()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var group = new GreenletGroup(loop);
            Greenlet killed = group.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            await loop.Yield();
            killed.Kill();
            Assert.True(await group.JoinAsync(raiseError: true));

            var boom = new InvalidOperationException("boom");
            _ = group.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(1)); throw boom; });
            _ = group.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await group.JoinAsync(raiseError: true));
            Assert.Same(boom, ex);
            Assert.True(await group.KillAllAsync(TimeSpan.FromSeconds(1)));
            Assert.Empty(group);
        });
    }

    [Fact]
    public void Link_CallbacksRunInRegistrationOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var order = new List<int>();
            Greenlet g = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
            for (int i = 0; i < 5; i++)
            {
                int n = i;
                g.Link(_ => order.Add(n));
            }

            await g;
            g.Link(_ => order.Add(99));
            Assert.Equal([0, 1, 2, 3, 4, 99], order);
        });
    }

    [Fact]
    public void RunScopeAsync_Nested_OuterChildFails_OriginalExceptionSurfaces_InnerChildrenKilled()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var boom = new InvalidOperationException("boom");
            Greenlet? innerChild = null;
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.RunScopeAsync(async outer =>
            {
                _ = outer.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(1)); throw boom; });
                await loop.RunScopeAsync(async inner =>
                {
                    innerChild = inner.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                    await loop.Sleep(TimeSpan.FromHours(1));
                });
            }));
            Assert.Same(boom, ex);
            Assert.True(innerChild!.IsKilled);
        });
    }

    [Fact]
    public void RunScopeAsync_Cancel_EndsWithoutError()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            Greenlet? child = null;
            await loop.RunScopeAsync(async scope =>
            {
                child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                await loop.Sleep(TimeSpan.FromSeconds(1));
                scope.Cancel();
                await loop.Sleep(TimeSpan.FromHours(1));
            });
            Assert.True(child!.IsKilled);
            Assert.Equal(TimeSpan.FromSeconds(1), loop.Now);
        });
    }

    [Fact]
    public void RunScopeAsync_ParentKilledWhileBodyInForeignAwait_ChildrenDoNotOutliveIt()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var never = new TaskCompletionSource();
            Greenlet? child = null;
            Greenlet parent = loop.Spawn(() => loop.RunScopeAsync(async scope =>
            {
                child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                await never.Task; // not a loop wait: a kill detaches the parent's body
            }));
            await loop.Sleep(TimeSpan.FromSeconds(1));
            await parent.KillAsync();
            Assert.True(parent.IsKilled);
            await loop.Sleep(TimeSpan.FromSeconds(1));
            Assert.True(child!.IsCompleted, "the scope's child outlived the killed parent");
        });
    }

    [Fact]
    public void RunScopeAsync_DeadlineWhileBodyInForeignAwait_ChildrenDoNotOutliveTheGreenlet()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var never = new TaskCompletionSource();
            Greenlet? child = null;
            Greenlet parent = loop.Spawn(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await loop.RunScopeAsync(async scope =>
                    {
                        child = scope.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
                        await never.Task;
                    });
                }
            });
            await Record.ExceptionAsync(async () => await parent);
            Assert.True(parent.IsCompleted);
            await loop.Sleep(TimeSpan.FromSeconds(1));
            Assert.True(child!.IsCompleted, "the scope's child outlived its parent, ended by its deadline");
        });
    }

    [Fact]
    public void MoveOnAfter_AbandonedBodyHeldAFailAfter_ItsLaterDeadlineDoesNotHitTheGreenletThatMovedOn()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var never = new TaskCompletionSource();
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                {
                    await never.Task;
                }
            });
            Assert.False(finished);
            await loop.Sleep(TimeSpan.FromSeconds(10)); // the abandoned body's scope no longer applies
            Assert.Equal(TimeSpan.FromSeconds(11), loop.Now);
        });
    }

    [Fact]
    public void MoveOnAfter_AbandonedBodyHeldATaskScope_ChildrenKilled_TheirFailureDoesNotHitTheGreenlet()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var never = new TaskCompletionSource();
            Greenlet? child = null;
            bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(1), () => loop.RunScopeAsync(async scope =>
            {
                child = scope.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(5)); throw new InvalidOperationException("late"); });
                await never.Task;
            }));
            Assert.False(finished);
            await loop.Sleep(TimeSpan.FromSeconds(10));
            Assert.True(child!.IsKilled);
        });
    }

    [Fact]
    public void PoolOfOne_SpawnAsyncWaiters_StartInArrivalOrder()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            var order = new List<int>();
            var spawners = new List<Greenlet>();
            for (int i = 0; i < 4; i++)
            {
                int n = i;
                spawners.Add(loop.Spawn(async () => await pool.SpawnAsync(async () => { order.Add(n); await loop.Sleep(TimeSpan.FromSeconds(1)); })));
                await loop.Yield();
            }

            // A late-comer that finds the pool momentarily free must not jump the queue.
            await loop.Sleep(TimeSpan.FromSeconds(1));
            Assert.False(pool.TrySpawn(() => Task.CompletedTask, out _));
            await loop.JoinAllAsync(spawners);
            await pool.JoinAsync();
            Assert.Equal([0, 1, 2, 3], order);
        });
    }

    [Fact]
    public async Task InvokeAsync_StartedByAGreenletThatEndsBeforeTheReply_TaskStillCompletes()
    {
        await using var group = new LoopGroup(2);
        int result = await group[0].InvokeAsync(async () =>
        {
            Loop here = group[0];
            Task<int>? call = null;
            Greenlet starter = here.Spawn(() =>
            {
                call = group[1].InvokeAsync(async () => { await group[1].Sleep(TimeSpan.FromMilliseconds(50)); return 5; });
                return Task.CompletedTask;
            });
            await starter;
            Assert.True(starter.Succeeded);
            return await call!.WaitAsync(s_liveness);
        }).WaitAsync(s_liveness);
        Assert.Equal(5, result);
    }

    [Fact]
    public async Task InvokeAsync_StartedByAGreenletThatEndsBeforeTheReply_AwaitedFromPlainThread_Completes()
    {
        await using var group = new LoopGroup(2);
        Task<int> call = await group[0].InvokeAsync(() =>
            Task.FromResult(group[1].InvokeAsync(async () => { await group[1].Sleep(TimeSpan.FromMilliseconds(50)); return 6; }))).WaitAsync(s_liveness);
        Assert.Equal(6, await call.WaitAsync(s_liveness));
    }

    [Fact]
    public async Task InvokeAsync_TargetLoopDisposedWhileBodyRuns_PlainThreadTaskCompletes()
    {
        var target = new Loop(new LoopOptions { Name = "target" });
        var thread = new Thread(() => target.Run()) { IsBackground = true };
        thread.Start();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task call = target.InvokeAsync(async () =>
        {
            started.TrySetResult();
            await target.Sleep(Timeout.InfiniteTimeSpan);
        });
        await started.Task.WaitAsync(s_liveness);
        target.Stop();
        thread.Join(s_liveness);
        target.Dispose();
        Exception? ex = await Record.ExceptionAsync(() => call.WaitAsync(s_liveness));
        Assert.IsAssignableFrom<OperationCanceledException>(ex);
    }

    [Fact]
    public async Task InvokeAsync_GroupStoppedWhileCallsInFlight_EveryTaskCompletes()
    {
        var group = new LoopGroup(2);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> fromPlain = group[1].InvokeAsync(async () => { started.TrySetResult(); await group[1].Sleep(Timeout.InfiniteTimeSpan); return 1; });
        Task<int> crossLoop = group[0].InvokeAsync(() => group[1].InvokeAsync(async () => { await group[1].Sleep(Timeout.InfiniteTimeSpan); return 2; }));
        await started.Task.WaitAsync(s_liveness);
        await group.StopAsync().WaitAsync(s_liveness);
        Exception? a = await Record.ExceptionAsync(() => fromPlain.WaitAsync(s_liveness));
        Exception? b = await Record.ExceptionAsync(() => crossLoop.WaitAsync(s_liveness));
        Assert.IsAssignableFrom<OperationCanceledException>(a);
        Assert.IsAssignableFrom<OperationCanceledException>(b);
    }

    [Fact]
    public async Task InvokeAsyncOfT_ResultAndExceptionIdentity_FromAnotherLoop()
    {
        await using var group = new LoopGroup(2);
        var boom = new InvalidOperationException("boom");
        int r = await group[0].InvokeAsync(async () => await group[1].InvokeAsync(async () => { await group[1].Yield(); return 7; }));
        Assert.Equal(7, r);
        Exception? ex = await Record.ExceptionAsync(() => group[0].InvokeAsync(async () => await group[1].InvokeAsync<int>(async () => { await group[1].Yield(); throw boom; })));
        Assert.Same(boom, ex);
    }
}

/// <summary>Cancel scopes and kills around HttpClient over <see cref="EventLoop.Net.LoopHttp"/>; counts descriptors, so runs alone.</summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ScopeEdgeCaseHttpTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void FailAfter_GetAsyncNeverAnswered_EndsAtDeadline_ClientReusable_NoDescriptorLeak()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = EventLoop.Tests.Net.LoopNet.Create())
        {
            EventLoop.Tests.Net.LoopNet.Run(loop, async () =>
            {
                await using var server = new EventLoop.Net.StreamServer(loop, EventLoop.Tests.Net.LoopNet.AnyPort, ServeAsync);
                server.Start();
                int port = ((System.Net.IPEndPoint)server.LocalEndPoint).Port;
                using (var http = new HttpClient(CreateHandler(loop)))
                {
                    // Warm: the connection exists, so the deadline meets the request's own reads.
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));
                    CancelScope? scope = null;
                    TimeSpan started = loop.Now;
                    Exception? error = await Record.ExceptionAsync(async () =>
                    {
                        using (scope = loop.FailAfter(TimeSpan.FromMilliseconds(300)))
                        {
                            await http.GetAsync(new Uri($"http://127.0.0.1:{port}/slow"));
                        }
                    });
                    Assert.True(scope!.IsOwnError(error!), error?.ToString());
                    Assert.InRange(loop.Now - started, TimeSpan.FromMilliseconds(300), s_liveness);

                    // The client is still usable after the cancelled request.
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));

                    // Killed mid-request: same.
                    Greenlet g = loop.Spawn(async () => await http.GetAsync(new Uri($"http://127.0.0.1:{port}/slow")));
                    await loop.Sleep(TimeSpan.FromMilliseconds(100));
                    await g.KillAsync().WaitAsync(s_liveness);
                    Assert.True(g.IsKilled);
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));

                    // A response cut short by the server fails the request, without a hang.
                    Exception? cut = await Record.ExceptionAsync(() => http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/cut")).WaitAsync(s_liveness));
                    Assert.IsType<HttpRequestException>(cut);
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));
                }

                await server.StopAsync(TimeSpan.Zero);
            });
            EventLoop.Tests.Net.LoopNet.AssertNoRegistrations(loop);
        }

        before.AssertOpenedSince(0);
    }

    private static async Task ServeAsync(EventLoop.Net.StreamConnection c, CancellationToken ct)
    {
        byte[] buffer = new byte[4096];
        var pending = new System.Text.StringBuilder();
        while (true)
        {
            int n = await c.ReceiveAsync(buffer, ct);
            if (n == 0)
            {
                return;
            }

            pending.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, n));
            string text = pending.ToString();
            int end;
            while ((end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
            {
                string request = text[..end];
                text = text[(end + 4)..];
                if (request.StartsWith("GET /ok", StringComparison.Ordinal))
                {
                    await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), ct);
                }
                else if (request.StartsWith("GET /cut", StringComparison.Ordinal))
                {
                    await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"u8.ToArray(), ct);
                    return;
                }
            }

            pending.Clear().Append(text);
        }
    }

    private static SocketsHttpHandler CreateHandler(Loop loop)
    {
        SocketsHttpHandler handler = EventLoop.Net.LoopHttp.CreateHandler(loop);
        handler.UseProxy = false;
        return handler;
    }
}
