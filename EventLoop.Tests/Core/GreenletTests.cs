namespace EventLoop.Tests.Core;

public sealed class GreenletTests
{
    [Fact]
    public void Spawn_BodyStartsOnLaterIteration_NotInsideSpawn()
    {
        using Loop loop = LoopAssert.Virtual();
        bool started = false;
        Greenlet g = loop.Spawn(() =>
        {
            started = true;
            return Task.CompletedTask;
        });

        Assert.False(started);
        Assert.False(g.IsStarted);
        loop.JoinAll([g]);
        Assert.True(started);
        Assert.True(g.Succeeded);
        Assert.Null(g.Exception);
    }

    [Fact]
    public void SpawnT_Value_IsBodyResult()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet<int> g = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1));
            return 42;
        });

        Assert.Throws<InvalidOperationException>(() => g.Value);
        loop.JoinAll([g]);
        Assert.Equal(42, g.Value);
        Assert.Equal(42, g.Task.Result);
    }

    [Fact]
    public void Greenlets_InterleaveOnOneThread_AtEachAwait()
    {
        using Loop loop = LoopAssert.Virtual();
        var trace = new List<string>();
        int loopThread = -1;
        var threads = new HashSet<int>();
        Greenlet Worker(string name) => loop.Spawn(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                trace.Add($"{name}{i}");
                threads.Add(Environment.CurrentManagedThreadId);
                await loop.Yield();
            }
        });

        Greenlet a = Worker("a"), b = Worker("b");
        loop.Post(() => loopThread = Environment.CurrentManagedThreadId);
        loop.JoinAll([a, b]);
        Assert.Equal(["a0", "b0", "a1", "b1", "a2", "b2"], trace);
        Assert.Equal([loopThread], threads);
    }

    [Fact]
    public void Exception_KeepsIdentity_ForAwaitJoinAllAndRun()
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = reported.Add });
        var boom = new InvalidOperationException("boom");
        Greenlet failing = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(1));
            throw boom;
        });

        Exception thrown = Assert.Throws<InvalidOperationException>(() => loop.JoinAll([failing], raiseError: true));
        Assert.Same(boom, thrown);
        Assert.Same(boom, failing.Exception);
        Assert.False(failing.Succeeded);
        Assert.Same(boom, Assert.Single(reported)); // reported once, when it happened

        Exception awaited = Assert.Throws<InvalidOperationException>(() => loop.Run(async () => await failing));
        Assert.Same(boom, awaited);

        Exception fromRun = Assert.Throws<InvalidOperationException>(() => loop.Run(() => throw boom));
        Assert.Same(boom, fromRun);
    }

    [Fact]
    public void JoinAll_WithoutRaiseError_ReturnsFailedGreenletsToo()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = _ => { } });
        Greenlet ok = loop.Spawn(() => Task.CompletedTask);
        Greenlet bad = loop.Spawn(() => throw new FormatException());
        IReadOnlyList<Greenlet> done = loop.JoinAll([ok, bad]);
        Assert.Equal([ok, bad], done);
        Assert.IsType<FormatException>(bad.Exception);
    }

    [Fact]
    public void JoinAll_Timeout_ReturnsOnlyFinished_InInputOrder()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet slow = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
        Greenlet fast1 = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
        Greenlet fast2 = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(2)).AsTask());

        IReadOnlyList<Greenlet> done = loop.JoinAll([slow, fast2, fast1], TimeSpan.FromSeconds(10));

        Assert.Equal([fast2, fast1], done);
        Assert.False(slow.IsCompleted);
        Assert.Equal(TimeSpan.FromSeconds(10), loop.Time.GetElapsedTime(0));
        slow.Kill();
        loop.JoinAll([slow]);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void JoinAll_InsideGreenlet_ThrowsNamingJoinAllAsync()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet other = loop.Spawn(() => Task.CompletedTask);
        var error = Assert.Throws<InvalidOperationException>(() => loop.Run(() =>
        {
            loop.JoinAll([other]);
            return Task.CompletedTask;
        }));
        Assert.Contains("JoinAllAsync", error.Message);
    }

    [Fact]
    public void JoinAllAsync_InsideGreenlet_WaitsForOthers()
    {
        using Loop loop = LoopAssert.Virtual();
        int count = loop.Run(async () =>
        {
            var children = Enumerable.Range(1, 10).Select(i => loop.Spawn(async () =>
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(i));
                return i;
            })).ToList();
            IReadOnlyList<Greenlet> done = await loop.JoinAllAsync(children);
            return done.Cast<Greenlet<int>>().Sum(g => g.Value);
        });
        Assert.Equal(55, count);
    }

    [Fact]
    public void JoinAll_FromAnotherThread_WhileLoopRunsElsewhere_Waits()
    {
        using var loop = new Loop();
        using var gate = new ManualResetEventSlim();
        Greenlet g = null!;
        var runner = new Thread(() => loop.Run(async () =>
        {
            g = loop.Spawn(async () => await loop.Sleep(TimeSpan.FromMilliseconds(20)));
            gate.Set();
            await g;
        }));
        runner.Start();
        Assert.True(gate.Wait(TimeSpan.FromSeconds(30)));

        IReadOnlyList<Greenlet> done = loop.JoinAll([g], TimeSpan.FromSeconds(30));

        Assert.Equal([g], done);
        Assert.True(runner.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Kill_BeforeStart_BodyNeverRuns_ExceptionIsOperationCanceled()
    {
        using Loop loop = LoopAssert.Virtual();
        bool ran = false;
        Greenlet g = loop.Spawn(() =>
        {
            ran = true;
            return Task.CompletedTask;
        });
        g.Kill();
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(ran);
        Assert.True(g.IsCompleted);
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.True(g.Task.IsCanceled);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Kill_WhileSleepingWithoutToken_SleepThrowsOperationCanceled()
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = reported.Add });
        bool cleanedUp = false;
        Greenlet sleeper = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1)); // no token passed on
            }
            finally
            {
                cleanedUp = true;
            }
        });
        loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromSeconds(1));
            sleeper.Kill();
        });

        loop.JoinAll([sleeper]);
        Assert.True(cleanedUp);
        Assert.IsAssignableFrom<OperationCanceledException>(sleeper.Exception);
        Assert.Empty(reported); // a kill is not a failure
        Assert.Equal(TimeSpan.FromSeconds(1), loop.Time.GetElapsedTime(0));
        LoopAssert.NoLiveHandles(loop);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Kill_CancelsTokenGivenToBody(bool namedAndTaskAfterTheToken)
    {
        // The token's source is the greenlet's side object until a name or a Task needs more room;
        // it moves then, and stays the token that Kill cancels and the exception carries.
        using Loop loop = LoopAssert.Virtual();
        CancellationToken seen = default;
        Greenlet g = loop.Spawn(async ct =>
        {
            seen = ct;
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        });
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(seen.IsCancellationRequested);
        Task? task = null;
        if (namedAndTaskAfterTheToken)
        {
            g.Name = "named after its token";
            task = g.Task;
        }

        g.Kill();
        loop.JoinAll([g]);
        Assert.True(seen.IsCancellationRequested);
        Assert.Equal(seen, Assert.IsAssignableFrom<OperationCanceledException>(g.Exception).CancellationToken);
        if (task is not null)
        {
            Assert.True(task.IsCanceled);
            Assert.Equal("named after its token", g.Name);
        }
    }

    [Fact]
    public void Kill_BodySwallowsCancellation_LaterWaitsThrowAgain()
    {
        using Loop loop = LoopAssert.Virtual();
        int caught = 0;
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            catch (OperationCanceledException)
            {
                caught++;
            }

            await loop.Yield(); // killed: throws at once
        });
        loop.RunOnce(TimeSpan.Zero);
        g.Kill();
        loop.JoinAll([g]);
        Assert.Equal(1, caught);
        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
    }

    [Fact]
    public void Kill_FromAnotherThread_NeverThrows_AndKillAsyncWaits()
    {
        using var loop = new Loop();
        Greenlet g = loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        loop.RunOnce(TimeSpan.Zero);
        Task killed = Task.Run(() => g.KillAsync());
        while (!g.IsCompleted)
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }

        Assert.True(killed.Wait(TimeSpan.FromSeconds(30)));
        Assert.True(g.IsKilled);
        g.Kill(); // again: no-op
    }

    [Fact]
    public void KillAsync_InsideGreenlet_OnVirtualClock_ResumesBeforeTheClockJumps()
    {
        using Loop loop = LoopAssert.Virtual();
        TimeSpan elapsed = loop.Run(async () =>
        {
            Greenlet victim = loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
            Greenlet timer = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
            await loop.Yield();
            long start = loop.Time.GetTimestamp();
            await victim.KillAsync();
            TimeSpan waited = loop.Time.GetElapsedTime(start);
            timer.Kill();
            return waited;
        });

        // Completing through the thread pool let the clock jump the hour before the waiter resumed.
        Assert.Equal(TimeSpan.Zero, elapsed);
    }

    [Fact]
    public void Link_CalledOnce_AndAtOnceWhenAlreadyDone()
    {
        using Loop loop = LoopAssert.Virtual();
        var calls = new List<string>();
        Greenlet g = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
        g.Link(x => calls.Add($"first:{x.Succeeded}"));
        loop.JoinAll([g]);
        Assert.Equal(["first:True"], calls);
        g.Link(_ => calls.Add("late"));
        Assert.Equal(["first:True", "late"], calls);
    }

    [Fact]
    public void Spawn_FromAnotherThread_RunsOnLoop()
    {
        using var loop = new Loop();
        int loopThread = 0;
        int bodyThread = -1;
        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            Greenlet g = await Task.Run(() => loop.Spawn(() =>
            {
                bodyThread = Environment.CurrentManagedThreadId;
                return Task.CompletedTask;
            }));
            await g;
        });
        Assert.Equal(loopThread, bodyThread);
    }

    [Fact]
    public void Dispose_KillsPendingGreenlets()
    {
        var loop = LoopAssert.Virtual();
        bool unwound = false;
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(Timeout.InfiniteTimeSpan);
            }
            finally
            {
                unwound = true;
            }
        });
        Greenlet never = loop.Spawn(() => Task.CompletedTask);
        loop.RunOnce(TimeSpan.Zero);
        Greenlet late = loop.Spawn(() => Task.CompletedTask);

        loop.Dispose();

        Assert.True(unwound);
        Assert.True(g.IsCompleted && never.IsCompleted && late.IsCompleted);
        Assert.IsAssignableFrom<OperationCanceledException>(late.Exception);
    }

    [Fact]
    public void CurrentGreenlet_IsTheRunningOne()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet? inside = null;
        Greenlet g = loop.Spawn(async () =>
        {
            await loop.Yield();
            inside = Greenlet.Current;
        });
        loop.JoinAll([g]);
        Assert.Same(g, inside);
        Assert.Null(Greenlet.Current);
    }

    [Fact]
    public void RunMain_Fails_IsRethrownOnce_NotAlsoReported_WhileAFailedChildIsReported()
    {
        var reported = new List<string>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = ex => reported.Add(ex.Message) });
        var thrown = new InvalidOperationException("main failed");
        var caught = Assert.Throws<InvalidOperationException>(() => loop.Run(async () =>
        {
            Greenlet child = loop.Spawn(() => throw new FormatException("child failed"));
            await loop.JoinAllAsync([child]);
            throw thrown;
        }));

        Assert.Same(thrown, caught);
        Assert.Equal(["child failed"], reported);
    }
}
