namespace EventLoop.Tests.Core;

/// <summary>Corner cases of greenlets, cancellation, coordination primitives, observability and loop groups, each once a defect.</summary>
public sealed class GreenletEdgeCaseTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static Loop Virtual() => new(new LoopOptions { VirtualTime = true });

    [Fact]
    public void Kill_FromAnotherThread_BeforeTheRemoteSpawnStarted_BodyNeverRuns()
    {
        using var group = new LoopGroup(1, new LoopGroupOptions { Name = "remote-kill" });
        Loop loop = group[0];
        for (int i = 0; i < 50; i++)
        {
            int ran = 0;
            using var gate = new ManualResetEventSlim();
            // Hold the loop thread so both the spawn and the kill are queued before it looks.
            loop.Post(() => gate.Wait(s_bound));
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
            Greenlet joinAll = loop.Spawn(async () => await loop.JoinAllAsync([member]));
            await loop.Yield();
            await loop.Yield();
            IReadOnlyList<GreenletInfo> infos = loop.GetGreenlets();
            Assert.Equal("GreenletPool.SpawnAsync", infos.Single(i => i.Id == spawner.Id).WaitingOn);
            Assert.Equal("GreenletPool.WaitAvailableAsync", infos.Single(i => i.Id == available.Id).WaitingOn);
            Assert.Equal("GreenletPool.JoinAsync", infos.Single(i => i.Id == joiner.Id).WaitingOn);
            Assert.Equal("Loop.JoinAllAsync", infos.Single(i => i.Id == joinAll.Id).WaitingOn);
            joinAll.Kill();
            spawner.Kill();
            available.Kill();
            joiner.Kill();
            member.Kill();
        });
    }

    [Fact]
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
            GreenletInfo info = Assert.Single(loop.GetGreenlets(), i => i.Id == remote.Id);
            Assert.Equal(GreenletState.Pending, info.State);
            Assert.Null(info.ParentId);
            Assert.Equal(2, loop.Statistics.LiveGreenlets); // main and the remote spawn
            await remote;
            Assert.Equal(1, loop.Statistics.LiveGreenlets);
            Assert.DoesNotContain(loop.GetGreenlets(), i => i.Id == remote.Id);
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

    [Fact]
    public void ZeroTimeoutWait_InAKilledGreenlet_ThrowsTheKill_NotATimeout()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            Exception? thrown = null;
            bool signalled = true;
            Greenlet g = loop.Spawn(async () =>
            {
                Greenlet.Current!.Kill();
                try
                {
                    await new LoopQueue<int>(loop).GetAsync(TimeSpan.Zero);
                }
                catch (Exception ex)
                {
                    thrown = ex;
                }

                try
                {
                    signalled = await new LoopEvent(loop).WaitAsync(TimeSpan.Zero);
                }
                catch (OperationCanceledException)
                {
                    signalled = true;
                }
            });
            await loop.JoinAllAsync([g]);
            Assert.IsAssignableFrom<OperationCanceledException>(thrown);
            Assert.True(signalled, "a killed greenlet's zero-timeout LoopEvent wait returned false instead of throwing the kill");
        });
    }

    [Fact]
    public void GetGreenlets_GreenletWokenAndQueuedToRun_IsNotDescribedAsAwaitingATask()
    {
        using Loop loop = Virtual();
        loop.Run(async () =>
        {
            var ready = new LoopEvent(loop);
            Greenlet waiter = loop.Spawn(async () => await ready.WaitAsync());
            await loop.Yield();
            await loop.Yield();
            Assert.Equal("LoopEvent.WaitAsync", loop.GetGreenlets().Single(i => i.Id == waiter.Id).WaitingOn);
            ready.Set(); // the waiter's continuation is queued: it is ready to run, not waiting on anything
            GreenletInfo woken = loop.GetGreenlets().Single(i => i.Id == waiter.Id);
            Assert.Equal("nothing (woken, about to run)", woken.WaitingOn);
            Assert.EndsWith("waiting on nothing (woken, about to run)", woken.ToString(), StringComparison.Ordinal);
            await waiter;
        });
    }

    [Fact]
    public void LoopGroup_Next_StaysStrictRoundRobin_Across2Pow32Calls()
    {
        using var group = new LoopGroup(3, new LoopGroupOptions { Name = "round-robin" });
        System.Reflection.FieldInfo counter = typeof(LoopGroup).GetField("_next", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

        // 2^32 - 2 calls made already (a busy acceptor gets there in hours): the next ones cross 2^32.
        counter.SetValue(group, counter.FieldType == typeof(int) ? (object)(-2) : (object)(long)(uint.MaxValue - 2));
        Loop[] handed = [.. Enumerable.Range(0, 6).Select(_ => group.Next())];
        for (int i = 1; i < handed.Length; i++)
        {
            Assert.NotSame(handed[i - 1], handed[i]);
        }

        Assert.All(group.Loops, l => Assert.Equal(2, handed.Count(h => ReferenceEquals(h, l))));
    }

    [Fact]
    public void BlockedLoop_HeldByACompletionHandler_IsReportedWhileHeld()
    {
        if (!EventLoop.Polling.IoUringProbe.Current.IsAvailable)
        {
            return; // io_uring missing here: nothing to check
        }

        using var held = new ManualResetEventSlim();
        using var released = new ManualResetEventSlim();
        using var loop = new Loop(new LoopOptions
        {
            Poller = PollerKind.IoUring,
            BlockedLoopThreshold = TimeSpan.FromMilliseconds(100),
            BlockedLoop = info => (info.Released ? released : held).Set(),
        });
        if (loop.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new EventLoop.Tests.Core.SocketPair();
        var handler = new BlockingCompletion(held);
        CompletionRequest request = io.CreateRequest(handler);
        request.Receive(pair.Left.SafeHandle, new byte[16]);
        pair.Right.Send("x"u8);
        for (int i = 0; i < 100 && !handler.Called; i++)
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }

        Assert.True(handler.Called);
        Assert.True(handler.SeenWhileHeld, "a completion handler held the loop and the watchdog said nothing");
        Assert.True(released.Wait(s_bound));
    }

    private sealed class BlockingCompletion(ManualResetEventSlim held) : ICompletionHandler
    {
        public bool Called { get; private set; }

        public bool SeenWhileHeld { get; private set; }

        public void OnCompleted(CompletionRequest request, int result)
        {
            if (!Called)
            {
                Called = true;
                SeenWhileHeld = held.Wait(TimeSpan.FromSeconds(10));
            }
        }
    }
}
