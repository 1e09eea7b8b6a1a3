using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Timeouts;

public sealed class ScopeEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public void FailAfter_NeverDisposed_ItsGreenletEnds_TheDeadlineTimerGoesWithIt()
    {
        using Loop loop = SyncTestLoop.Create();
        Greenlet g = loop.Spawn(() =>
        {
            _ = loop.FailAfter(TimeSpan.FromHours(1)); // never disposed: a misuse
            return Task.CompletedTask;
        });
        loop.JoinAll([g]);

        Assert.True(g.Succeeded);
        Assert.Equal(0, loop.Statistics.TimersPending); // no timer left to fire into nothing
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
    public void FailAfter_ItsTokenEndsAForeignAwait_IsOwnErrorRecognisesTheCancellation()
    {
        // The documented way to end an await that is not a loop wait at the deadline: pass the
        // scope's Token. What it throws must count as the scope's own error.
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancelScope? scope = null;
            Exception? error = await Record.ExceptionAsync(async () =>
            {
                using (scope = loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), loop.Time, scope.Token);
                }
            });

            Assert.IsAssignableFrom<OperationCanceledException>(error);
            Assert.True(scope!.IsOwnError(error!), error!.ToString());
            Assert.True(scope.CanceledCaught);

            using CancelScope other = loop.FailAfter(TimeSpan.FromSeconds(1));
            Assert.False(other.IsOwnError(error!)); // another scope's token is not this one's
            Assert.False(scope.IsOwnError(new OperationCanceledException(CancellationToken.None)));
        });
    }

    [Fact]
    public void CancelScope_TokenReadBeforeAndAfterDispose_IsTheSameToken_WithTheScopesFinalState()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            CancellationToken before;
            using (CancelScope scope = loop.OpenCancelScope())
            {
                before = scope.Token;
                scope.Dispose();
                Assert.Equal(before, scope.Token);
                Assert.False(scope.Token.IsCancellationRequested);
                scope.Cancel(); // a scope that was left is not cancelled any more
                Assert.False(scope.Token.IsCancellationRequested);
                using CancellationTokenRegistration never = scope.Token.Register(() => { }); // its disposed source accepts it
            }

            CancelScope timedOut = loop.FailAfter(TimeSpan.FromSeconds(1));
            before = timedOut.Token;
            await Record.ExceptionAsync(async () => await loop.Sleep(TimeSpan.FromSeconds(2)));
            timedOut.Dispose();
            Assert.Equal(before, timedOut.Token);
            Assert.True(timedOut.Token.IsCancellationRequested);
            using CancellationTokenRegistration late = timedOut.Token.Register(() => { }); // no ObjectDisposedException
        });
    }

    [Fact]
    public void CancelScope_TokenFirstReadAfterDispose_CreatesNoSource_ShowsTheScopesFinalState()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            long quietest = long.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                CancelScope left = loop.OpenCancelScope();
                left.Dispose();
                long before = GC.GetAllocatedBytesForCurrentThread();
                CancellationToken token = left.Token;
                quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
                Assert.False(token.CanBeCanceled); // nothing can cancel a scope that was left
            }

            Assert.Equal(0, quietest);

            CancelScope cancelled = loop.OpenCancelScope();
            cancelled.Cancel();
            cancelled.Dispose();
            Assert.True(cancelled.Token.IsCancellationRequested);

            CancelScope timedOut = loop.FailAfter(TimeSpan.FromSeconds(1));
            await Record.ExceptionAsync(async () => await loop.Sleep(TimeSpan.FromSeconds(2)));
            timedOut.Dispose();
            Assert.True(timedOut.TimedOut);
            Assert.True(timedOut.Token.IsCancellationRequested);
            Assert.Equal(0, loop.Statistics.TimersPending);
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
    public void MoveOnAfter_BodyInForeignAwaitUnderFailAfterWithTheSameDeadline_MovesOn_GreenletCarriesOn()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var never = new TaskCompletionSource();
            Greenlet g = loop.Spawn(async () =>
            {
                bool finished = await loop.MoveOnAfter(TimeSpan.FromSeconds(5), async () =>
                {
                    using (loop.FailAfter(TimeSpan.FromSeconds(5)))
                    {
                        await never.Task;
                    }
                });
                Assert.False(finished);
                await loop.Sleep(TimeSpan.FromSeconds(1));
            });
            await Record.ExceptionAsync(async () => await g);
            Assert.True(g.Succeeded, g.Exception?.ToString());
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
    public async Task InvokeAsync_GroupStoppedWhileCallsInFlight_EveryTaskCompletes()
    {
        var group = new LoopGroup(2);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var crossStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> fromPlain = group[1].InvokeAsync(async () => { started.TrySetResult(); await group[1].Sleep(Timeout.InfiniteTimeSpan); return 1; });
        Task<int> crossLoop = group[0].InvokeAsync(() => group[1].InvokeAsync(async () => { crossStarted.TrySetResult(); await group[1].Sleep(Timeout.InfiniteTimeSpan); return 2; }));
        await started.Task.WaitAsync(s_liveness);
        await crossStarted.Task.WaitAsync(s_liveness); // both calls in flight, not one still on its way
        await group.StopAsync().WaitAsync(s_liveness);
        Exception? a = await Record.ExceptionAsync(() => fromPlain.WaitAsync(s_liveness));
        Exception? b = await Record.ExceptionAsync(() => crossLoop.WaitAsync(s_liveness));
        Assert.IsAssignableFrom<OperationCanceledException>(a);
        Assert.IsAssignableFrom<OperationCanceledException>(b);
    }
}

/// <summary>Cancel scopes and kills around HttpClient over <see cref="EventLoop.Net.LoopHttp"/>; counts descriptors, so runs alone.</summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ScopeEdgeCaseTestsOverHttp
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
                    Assert.True(g.IsKilled, g.Exception?.ToString() ?? (g.Succeeded ? "succeeded" : "not completed"));
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));

                    // A response cut short by the server fails the request, without a hang.
                    Exception? cut = await Record.ExceptionAsync(() => http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/cut")).WaitAsync(s_liveness));
                    // HttpRequestException, or the HttpIOException ("ended prematurely") of the content
                    // read, depending on where the end of the stream meets the client.
                    Assert.True(cut is HttpRequestException or IOException, cut?.ToString() ?? "no error");
                    Assert.Equal("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ok")));
                }

                await server.StopAsync(TimeSpan.Zero);
            });
            EventLoop.Tests.Net.LoopNet.AssertNoRegistrationsOncePostedClosesRan(loop);
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
