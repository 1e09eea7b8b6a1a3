namespace EventLoop.Tests.Review;

/// <summary>Review probes: greenlets, cancellation, coordination primitives, observability, many loops.</summary>
public sealed class GreenletReviewTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static Loop Virtual() => new(new LoopOptions { VirtualTime = true });

    [Fact]
    public void Kill_FromAnotherThread_BeforeTheRemoteSpawnStarted_BodyNeverRuns()
    {
        using var group = new LoopGroup(1, new LoopGroupOptions { Name = "review-kill" });
        Loop loop = group[0];
        for (int i = 0; i < 50; i++)
        {
            int ran = 0;
            var gate = new ManualResetEventSlim();
            // Hold the loop thread so both the spawn and the kill are queued before it looks.
            loop.Post(() => gate.Wait());
            Greenlet g = loop.Spawn(() =>
            {
                Interlocked.Exchange(ref ran, 1);
                return Task.CompletedTask;
            });
            Assert.False(g.IsStarted);
            g.Kill();
            gate.Set();
            Task t = g.KillAsync();
            Assert.True(t.Wait(s_bound));
            Assert.True(g.IsCompleted);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
            Assert.Equal(0, Volatile.Read(ref ran));
        }
    }

    [Fact]
    public void Semaphore_Waiter_IsNamedInPlainWords_InGetGreenlets()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            var semaphore = new LoopSemaphore(loop, 0);
            var bounded = new BoundedLoopSemaphore(loop, 1);
            Assert.True(bounded.TryAcquire());
            Greenlet a = loop.Spawn(async () => { using (await semaphore.AcquireAsync()) { } });
            Greenlet b = loop.Spawn(async () => { using (await bounded.AcquireAsync()) { } });
            await loop.Yield();
            await loop.Yield();
            IReadOnlyList<GreenletInfo> infos = loop.GetGreenlets();
            Assert.Equal("LoopSemaphore.AcquireAsync", infos.Single(i => i.Id == a.Id).WaitingOn);
            Assert.Equal("BoundedLoopSemaphore.AcquireAsync", infos.Single(i => i.Id == b.Id).WaitingOn);
            a.Kill();
            b.Kill();
        });
    }

    [Fact]
    public void GroupAndPool_Waiters_AreNamedInPlainWords_InGetGreenlets()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            var pool = new GreenletPool(loop, 1);
            Greenlet member = await pool.SpawnAsync(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
            Greenlet spawner = loop.Spawn(async () => await pool.SpawnAsync(() => Task.CompletedTask));
            Greenlet available = loop.Spawn(async () => await pool.WaitAvailableAsync());
            Greenlet joiner = loop.Spawn(async () => await pool.JoinAsync());
            await loop.Yield();
            await loop.Yield();
            IReadOnlyList<GreenletInfo> infos = loop.GetGreenlets();
            Assert.Equal("GreenletPool.SpawnAsync", infos.Single(i => i.Id == spawner.Id).WaitingOn);
            Assert.Equal("GreenletPool.WaitAvailableAsync", infos.Single(i => i.Id == available.Id).WaitingOn);
            Assert.Equal("GreenletPool.JoinAsync", infos.Single(i => i.Id == joiner.Id).WaitingOn);
            spawner.Kill();
            available.Kill();
            joiner.Kill();
            member.Kill();
        });
    }

    [Fact(Skip = "Defect, not fixed: a greenlet spawned from another thread joins the live list (GetGreenlets, DumpGreenlets, eventloop.greenlets.live, Statistics.LiveGreenlets) only when its start runs, so it is never listed as pending; fix: adopt remote starts into the live list in DrainInbox.")]
    public void GetGreenlets_ShowsAGreenletSpawnedFromAnotherThread_BeforeItStarts()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            Greenlet remote = null!;
            var spawner = new Thread(() => remote = loop.Spawn(() => Task.CompletedTask));
            spawner.Start();
            spawner.Join(); // blocks the loop thread briefly on purpose: the spawn is queued in the inbox
            Assert.False(remote.IsStarted);
            Assert.Contains(loop.GetGreenlets(), i => i.Id == remote.Id);
            await remote;
        });
    }

    [Fact]
    public void Probe_NestedFailAfter_EarliestFires_NamesItsScope()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            using (CancelScope outer = loop.FailAfter(TimeSpan.FromSeconds(5)))
            {
                using CancelScope inner = loop.FailAfter(TimeSpan.FromSeconds(1));
                LoopTimeoutException e = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await loop.Sleep(TimeSpan.FromSeconds(10)));
                Assert.Same(inner, e.Scope);
            }

            using (CancelScope outer = loop.FailAfter(TimeSpan.FromSeconds(1)))
            {
                using CancelScope inner = loop.FailAfter(TimeSpan.FromSeconds(5));
                Greenlet other = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(10)).AsTask());
                LoopTimeoutException e = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await other);
                Assert.Same(outer, e.Scope);
                Assert.False(other.IsCompleted);
                other.Kill();
            }
        });
    }

    [Fact]
    public void Probe_KillWhileAwaitingTaskRun_CompletesKilledWithinOneIteration_DetachedBodyLaterWaitFails()
    {
        using var loop = new Loop();
        var release = new ManualResetEventSlim();
        var later = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Greenlet g = loop.Spawn(async () =>
        {
            await Task.Run(() => release.Wait());
            try
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(1));
                later.TrySetResult(null);
            }
            catch (Exception ex)
            {
                later.TrySetResult(ex);
            }
        });
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(g.IsStarted);
        g.Kill();
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(g.IsCompleted);
        Assert.False(g.Succeeded);
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        release.Set();
        while (!later.Task.IsCompleted)
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(10));
        }

        Assert.IsAssignableFrom<OperationCanceledException>(later.Task.Result);
    }

    [Fact]
    public void Probe_BoundedQueue_KilledPutter_LosesNothing_FifoKept()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            var queue = new LoopQueue<int>(loop, 1);
            await queue.PutAsync(0);
            Greenlet p1 = loop.Spawn(async () => await queue.PutAsync(1));
            Greenlet p2 = loop.Spawn(async () => await queue.PutAsync(2));
            Greenlet p3 = loop.Spawn(async () => await queue.PutAsync(3));
            await loop.Yield();
            await loop.Yield();
            p2.Kill();
            await loop.Yield();
            Assert.Equal(0, await queue.GetAsync());
            Assert.Equal(1, await queue.GetAsync());
            Assert.Equal(3, await queue.GetAsync());
            Assert.False(queue.TryGet(out _));
            await loop.JoinAllAsync([p1, p3]);
            Assert.True(p1.Succeeded);
            Assert.True(p3.Succeeded);
        });
    }

    [Fact]
    public void Probe_Semaphore_HandedPermit_ThenTokenCanceled_KeepsIt_AndLockNotLostOnCancel()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            var semaphore = new LoopSemaphore(loop, 0);
            using var cts = new CancellationTokenSource();
            ValueTask<LoopReleaser> wait = semaphore.AcquireAsync(cts.Token);
            semaphore.Release();
            cts.Cancel();
            LoopReleaser r = await wait;
            Assert.Equal(0, semaphore.CurrentCount);
            r.Dispose();
            Assert.Equal(1, semaphore.CurrentCount);

            var lck = new LoopLock(loop);
            Assert.True(lck.TryAcquire());
            using var cts2 = new CancellationTokenSource();
            Greenlet a = loop.Spawn(async () => { using (await lck.AcquireAsync(cts2.Token)) { } });
            Greenlet b = loop.Spawn(async () => { using (await lck.AcquireAsync()) { } });
            await loop.Yield();
            cts2.Cancel();
            await loop.Yield();
            lck.Release();
            await loop.JoinAllAsync([a, b]);
            Assert.True(b.Succeeded);
            Assert.False(lck.IsLocked);
        });
    }

    [Fact]
    public void Probe_KilledGreenletOfT_AwaitAndValueThrowOce_KillOfCompletedKeepsOutcome()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            Greenlet<int> g = loop.Spawn(async () => { await loop.Sleep(TimeSpan.FromSeconds(1)); return 1; });
            await loop.Yield();
            await g.KillAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await g);
            Assert.ThrowsAny<OperationCanceledException>(() => g.Value);
            Assert.True(g.Task.IsCanceled);

            var boom = new InvalidOperationException("boom");
            Greenlet<int> f = loop.Spawn<int>(() => throw boom);
            Greenlet<int> ok = loop.Spawn(() => Task.FromResult(7));
            await loop.JoinAllAsync([f, ok]);
            f.Kill();
            ok.Kill();
            await ok.KillAsync();
            Assert.Same(boom, f.Exception);
            Assert.True(ok.Succeeded);
            Assert.Equal(7, await ok);
            bool linked = false;
            ok.Link(_ => linked = true);
            Assert.True(linked);
        });
    }

    [Fact]
    public void Probe_MoveOnAfter_TrueWhenBodyFinished_FalseWhenCut()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            Assert.True(await loop.MoveOnAfter(TimeSpan.FromSeconds(2), () => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask()));
            Assert.False(await loop.MoveOnAfter(TimeSpan.FromSeconds(1), () => loop.Sleep(TimeSpan.FromSeconds(2)).AsTask()));
            Assert.False(await loop.MoveOnAfter(TimeSpan.FromSeconds(1), ct => Task.Delay(TimeSpan.FromSeconds(2), loop.Time, ct)));
            Assert.True(await loop.MoveOnAfter(TimeSpan.Zero, () => Task.CompletedTask));
            Assert.Null(Greenlet.Current!.Exception);
        });
    }

    [Fact]
    public void BlockedLoop_HeldByABeforePollHook_IsReportedWhileHeld()
    {
        using var held = new ManualResetEventSlim();
        using var released = new ManualResetEventSlim();
        using var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(100),
            BlockedLoop = info =>
            {
                if (!info.Released)
                {
                    Assert.Null(info.Greenlet);
                    Assert.Contains(nameof(BlockedLoop_HeldByABeforePollHook_IsReportedWhileHeld), info.Callback, StringComparison.Ordinal);
                }

                (info.Released ? released : held).Set();
            },
        });
        bool first = true;
        bool seenWhileHeld = false;
        using IDisposable hook = loop.OnBeforePoll(() =>
        {
            if (first)
            {
                first = false;
                seenWhileHeld = held.Wait(TimeSpan.FromSeconds(10)); // holds the loop until the watchdog speaks
            }
        });
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(seenWhileHeld, "a before-poll hook held the loop and the watchdog said nothing");
        Assert.True(released.Wait(s_bound));
    }

    [Fact]
    public void BlockedLoop_HeldByAReadinessHandler_IsReportedWhileHeld()
    {
        using var held = new ManualResetEventSlim();
        using var released = new ManualResetEventSlim();
        string? named = null;
        using var loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(100),
            BlockedLoop = info =>
            {
                if (!info.Released)
                {
                    named = info.Callback;
                }

                (info.Released ? released : held).Set();
            },
        });
        (Microsoft.Win32.SafeHandles.SafeFileHandle read, Microsoft.Win32.SafeHandles.SafeFileHandle write) = EventLoop.Tests.Extending.TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new BlockingHandler(held);
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            EventLoop.Tests.Extending.TestPipe.Write(write, "x"u8);
            for (int i = 0; i < 100 && !handler.Called; i++)
            {
                loop.RunOnce(TimeSpan.FromMilliseconds(100));
            }

            Assert.True(handler.Called);
            Assert.True(handler.SeenWhileHeld, "a readiness handler held the loop and the watchdog said nothing");
            Assert.True(released.Wait(s_bound));
            Assert.Equal(nameof(BlockingHandler), named);
        }
    }

    private sealed class BlockingHandler(ManualResetEventSlim held) : IReadinessHandler
    {
        public bool Called { get; private set; }

        public bool SeenWhileHeld { get; private set; }

        public void OnReady(ReadinessWatch watch, IoEvents events)
        {
            if (!Called)
            {
                Called = true;
                SeenWhileHeld = held.Wait(TimeSpan.FromSeconds(10));
            }
        }

        public void OnLoopDisposed(ReadinessWatch watch)
        {
        }
    }
}
