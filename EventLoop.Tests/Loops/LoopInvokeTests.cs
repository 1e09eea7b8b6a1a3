using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace EventLoop.Tests.Loops;

public sealed class LoopInvokeTests
{
    // Liveness bound only: every wait below normally ends in milliseconds.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task InvokeAsync_FromPlainThread_RunsAsGreenletOnTargetLoop()
    {
        await using var group = new LoopGroup(1);
        Loop loop = group[0];

        (Loop? current, bool inGreenlet) = await loop
            .InvokeAsync(() => Task.FromResult((Loop.Current, Greenlet.Current is not null)))
            .WaitAsync(s_bound);

        Assert.Same(loop, current);
        Assert.True(inGreenlet);
    }

    [Fact]
    public async Task InvokeAsync_FromAnotherLoopsGreenlet_ResumesOnCallerLoopAndGreenlet()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];

        (bool sameLoop, bool sameGreenlet, bool sameThread, int value) = await a.InvokeAsync(async () =>
        {
            Greenlet? me = Greenlet.Current;
            int thread = Environment.CurrentManagedThreadId;
            int v = await b.InvokeAsync(() => Task.FromResult(Environment.CurrentManagedThreadId == thread ? -1 : 7));
            return (Loop.Current == a, Greenlet.Current == me, Environment.CurrentManagedThreadId == thread, v);
        }).WaitAsync(s_bound);

        Assert.True(sameLoop);
        Assert.True(sameGreenlet);
        Assert.True(sameThread);
        Assert.Equal(7, value);
    }

    [Fact]
    public async Task InvokeAsync_BodyThrows_CallerGetsSameException_NotReportedOnTarget()
    {
        var reports = new ConcurrentQueue<Exception>();
        await using var group = new LoopGroup(2, new LoopGroupOptions { Loop = new LoopOptions { UnhandledException = reports.Enqueue } });
        var boom = new InvalidOperationException("boom");

        Exception? caught = await group[0].InvokeAsync(async () =>
        {
            try
            {
                await group[1].InvokeAsync(async () =>
                {
                    await Task.Yield();
                    throw boom;
                });
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }).WaitAsync(s_bound);

        Assert.Same(boom, caught);
        Exception fromThread = await Assert.ThrowsAsync<InvalidOperationException>(() => group[1].InvokeAsync(() => Task.FromException<int>(boom)).WaitAsync(s_bound));
        Assert.Same(boom, fromThread);
        Assert.Empty(reports);
    }

    [Fact]
    public async Task InvokeAsync_CallerKilled_RemoteGreenletKilled()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];
        var remoteStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remoteEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);

        Greenlet caller = await a.InvokeAsync(() => Task.FromResult(a.Spawn(() => b.InvokeAsync(async () =>
        {
            remoteStarted.SetResult();
            try
            {
                await b.Sleep(TimeSpan.FromHours(1));
                remoteEnded.SetResult(null);
            }
            catch (Exception ex)
            {
                remoteEnded.SetResult(ex);
                throw;
            }
        })))).WaitAsync(s_bound);
        await remoteStarted.Task.WaitAsync(s_bound);
        await caller.KillAsync().WaitAsync(s_bound);

        Assert.IsType<OperationCanceledException>(caller.Exception);
        Assert.IsType<OperationCanceledException>(await remoteEnded.Task.WaitAsync(s_bound));
    }

    [Fact]
    public async Task InvokeAsync_CallsAfterKilledCalls_EachGetTheirOwnOutcome()
    {
        // A loop reuses a finished call's bookkeeping for its next call. Calls whose callers were
        // killed finish later (their remote greenlets are killed in turn); the calls made
        // meanwhile, and after, must each get their own result or exception.
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];
        var boom = new FormatException("odd");

        (int[] results, int failures, int killed) = await a.InvokeAsync(async () =>
        {
            var results = new int[300];
            int failures = 0, killed = 0;
            for (int i = 0; i < results.Length; i++)
            {
                if (i % 50 == 0)
                {
                    // A caller killed while its remote greenlet sleeps.
                    var started = new LoopEvent(a);
                    Greenlet caller = a.Spawn(() => b.InvokeAsync(async () =>
                    {
                        await a.InvokeAsync(() => { started.Set(); return Task.CompletedTask; });
                        await b.Sleep(TimeSpan.FromHours(1));
                        return -1;
                    }));
                    await started.WaitAsync();
                    caller.Kill();
                    try
                    {
                        await caller;
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    killed += caller.Exception is OperationCanceledException ? 1 : 0;
                }

                int n = i;
                try
                {
                    results[i] = await b.InvokeAsync(async () =>
                    {
                        if (n % 7 == 0)
                        {
                            await b.Yield();
                        }

                        return n % 11 == 0 ? throw boom : n;
                    });
                }
                catch (FormatException ex) when (ReferenceEquals(ex, boom))
                {
                    failures++;
                    results[i] = -n;
                }
            }

            return (results, failures, killed);
        }).WaitAsync(s_bound);

        Assert.Equal(6, killed);
        Assert.Equal(Enumerable.Range(0, 300).Count(n => n % 11 == 0), failures);
        Assert.Equal(Enumerable.Range(0, 300).Select(n => n % 11 == 0 ? -n : n), results);
    }

    [Fact]
    public async Task InvokeAsync_CallerScopeDeadline_TimesOutAndKillsRemote()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];
        var remoteEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);

        Exception? error = await a.InvokeAsync(async () =>
        {
            try
            {
                using (a.FailAfter(TimeSpan.FromMilliseconds(20)))
                {
                    await b.InvokeAsync(async () =>
                    {
                        try
                        {
                            await b.Sleep(TimeSpan.FromHours(1));
                        }
                        catch (Exception ex)
                        {
                            remoteEnded.SetResult(ex);
                            throw;
                        }
                    });
                }

                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }).WaitAsync(s_bound);

        Assert.IsType<LoopTimeoutException>(error);
        Assert.IsType<OperationCanceledException>(await remoteEnded.Task.WaitAsync(s_bound));
    }

    [Fact]
    public async Task InvokeAsync_RemoteKilled_CallerGetsCanceled()
    {
        await using var group = new LoopGroup(1);
        Loop loop = group[0];
        var running = new TaskCompletionSource<Greenlet>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task task = loop.InvokeAsync(async () =>
        {
            running.SetResult(Greenlet.Current!);
            await loop.Sleep(TimeSpan.FromHours(1));
        });
        Greenlet remote = await running.Task.WaitAsync(s_bound);
        remote.Kill();

        OperationCanceledException error = await Assert.ThrowsAsync<OperationCanceledException>(() => task.WaitAsync(s_bound));
        Assert.Same(remote.Exception, error);
        Assert.True(task.IsCanceled);
    }

    [Fact]
    public async Task InvokeAsync_TokenBody_TokenCancelledByCallerKill()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];
        var tokenCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Greenlet caller = await a.InvokeAsync(() => Task.FromResult(a.Spawn(() => b.InvokeAsync(async ct =>
        {
            ct.Register(() => tokenCancelled.TrySetResult());
            started.SetResult();
            await b.Sleep(TimeSpan.FromHours(1));
        })))).WaitAsync(s_bound);
        await started.Task.WaitAsync(s_bound);
        caller.Kill();

        await tokenCancelled.Task.WaitAsync(s_bound);
    }

    [Fact]
    public async Task InvokeAsync_OwnLoop_Works()
    {
        using var loop = new Loop();
        int result = loop.Run(async () => await loop.InvokeAsync(() => Task.FromResult(3)) + 1);

        Assert.Equal(4, result);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task InvokeAsync_CallerLoopDisposed_ItsThreadDoesNotKeepItAlive()
    {
        // A calling loop recycles its calls' bookkeeping; once that loop is disposed, nothing the
        // thread that ran it keeps may hold the loop (the thread lives on, as a host's would).
        await using var group = new LoopGroup(1);
        bool? collected = null;
        var thread = new Thread(() =>
        {
            WeakReference caller = CallThenDispose(group[0]);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            collected = !caller.IsAlive;
        });
        thread.Start();
        Assert.True(thread.Join(s_bound));

        Assert.True(collected);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CallThenDispose(Loop target)
    {
        var caller = new Loop();
        int sum = caller.Run(async () =>
        {
            int total = 0;
            for (int i = 0; i < 3; i++)
            {
                int n = i;
                total += await target.InvokeAsync(() => Task.FromResult(n));
                await target.InvokeAsync(() => Task.CompletedTask);
            }

            return total;
        });
        Assert.Equal(3, sum);
        caller.Dispose();
        return new WeakReference(caller);
    }

    [Fact]
    public void InvokeAsync_DisposedLoop_Throws()
    {
        var loop = new Loop();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => { _ = loop.InvokeAsync(() => Task.CompletedTask); });
    }

    [Fact]
    public async Task InvokeAsync_FromOtherThread_LoopDisposedBeforeItRan_TaskCanceled()
    {
        var loop = new Loop();
        Task<int>? task = null;
        Greenlet? spawned = null;
        var other = new Thread(() =>
        {
            task = loop.InvokeAsync(() => Task.FromResult(1));
            spawned = loop.Spawn(() => Task.CompletedTask);
        });
        other.Start();
        other.Join();
        loop.Dispose();

        Assert.True(spawned!.IsCompleted);
        Assert.IsType<OperationCanceledException>(spawned.Exception);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task!.WaitAsync(s_bound));
    }

    [Fact]
    public async Task InvokeAsync_EveryLoopToEveryLoop_NoLossNoDuplication()
    {
        const int Loops = 4, PerPair = 300;
        await using var group = new LoopGroup(Loops);
        var served = new int[Loops]; // served[i] is touched only on loop i

        Task<List<long>>[] senders = new Task<List<long>>[Loops];
        for (int from = 0; from < Loops; from++)
        {
            int me = from;
            senders[from] = group[from].InvokeAsync(async () =>
            {
                var ids = new List<long>();
                var pending = new List<Task<long>>();
                for (int n = 0; n < PerPair; n++)
                {
                    for (int to = 0; to < Loops; to++)
                    {
                        int target = to;
                        long id = ((long)me << 40) | ((long)target << 20) | (uint)n;
                        pending.Add(group[target].InvokeAsync(async () =>
                        {
                            Assert.Same(group[target], Loop.Current);
                            served[target]++;
                            if ((n & 7) == 0)
                            {
                                await Task.Yield();
                            }

                            return id;
                        }));
                    }

                    if (pending.Count >= 64)
                    {
                        foreach (Task<long> t in pending)
                        {
                            ids.Add(await t);
                        }

                        pending.Clear();
                    }
                }

                foreach (Task<long> t in pending)
                {
                    ids.Add(await t);
                }

                Assert.Same(group[me], Loop.Current);
                return ids;
            });
        }

        List<long>[] results = await Task.WhenAll(senders).WaitAsync(s_bound);
        long[] all = results.SelectMany(r => r).ToArray();
        Assert.Equal(Loops * Loops * PerPair, all.Length);
        Assert.Equal(all.Length, all.Distinct().Count());
        for (int i = 0; i < Loops; i++)
        {
            int count = await group[i].InvokeAsync(() => Task.FromResult(served[i])).WaitAsync(s_bound);
            Assert.Equal(Loops * PerPair, count);
        }
    }

    [Fact]
    public async Task InvokeAsync_TwoLoopsInvokeEachOther_Nested_NoDeadlock()
    {
        await using var group = new LoopGroup(2);
        Loop a = group[0], b = group[1];

        // a -> b -> a -> b and b -> a -> b -> a, many at once: a loop waiting for a reply keeps
        // serving requests, so neither side can block the other.
        Task<int> Ping(Loop self, Loop other, int depth) =>
            depth == 0 ? Task.FromResult(1) : other.InvokeAsync(async () => 1 + await Ping(other, self, depth - 1));

        var tasks = new List<Task<int>>();
        for (int i = 0; i < 200; i++)
        {
            tasks.Add(a.InvokeAsync(() => Ping(a, b, 3)));
            tasks.Add(b.InvokeAsync(() => Ping(b, a, 3)));
        }

        int[] results = await Task.WhenAll(tasks).WaitAsync(s_bound);
        Assert.All(results, r => Assert.Equal(4, r));
    }
}
