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
}
