namespace EventLoop.Tests.Core;

/// <summary>
/// A thread that does not run the loop spawns greenlets on a running loop and reaches for each
/// one's any-thread members at once (<see cref="Greenlet.Task"/>, <see cref="Greenlet.Link"/>,
/// <see cref="Greenlet.KillAsync"/>, awaiting) while the loop thread completes them. Every one
/// of those must observe the completion, however the two threads interleave.
/// </summary>
public sealed class GreenletCrossThreadTests
{
    // A lost completion showed up a few times per 100,000 spawns when both threads really run
    // in parallel, less often when other processes take the cores: the test spawns rounds of
    // 100,000 for a few seconds (at least MinRounds of them) to give the race many chances.
    private const int SpawnsPerRound = 100_000;
    private const int MinRounds = 4;
    private const int MaxRounds = 60;
    private static readonly TimeSpan s_stressTime = TimeSpan.FromSeconds(4);

    // A liveness bound only: the loop completes a round in well under a second.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public void Spawn_FromAnotherThread_TaskLinkAndKillAsyncSeeEveryCompletion()
    {
        using var loop = new Loop();
        var started = new ManualResetEventSlim();
        var runner = new Thread(() =>
        {
            loop.Post(started.Set);
            loop.Run();
        })
        {
            IsBackground = true,
            Name = "greenlet-cross-thread-loop",
        };
        runner.Start();
        Assert.True(started.Wait(s_bound));

        try
        {
            var elapsed = System.Diagnostics.Stopwatch.StartNew();
            for (int round = 0; round < MaxRounds && (round < MinRounds || elapsed.Elapsed < s_stressTime); round++)
            {
                RunRound(loop, round);
            }
        }
        finally
        {
            loop.Stop();
            Assert.True(runner.Join(s_bound));
        }
    }

    [Fact]
    public void Link_FromAnotherThread_RunsOnLoopThread_ForPendingAndCompletedGreenlets()
    {
        using var loop = new Loop();
        var started = new ManualResetEventSlim();
        int loopThread = 0;
        var runner = new Thread(() =>
        {
            loop.Post(() =>
            {
                loopThread = Environment.CurrentManagedThreadId;
                started.Set();
            });
            loop.Run();
        })
        {
            IsBackground = true,
        };
        runner.Start();
        Assert.True(started.Wait(s_bound));

        try
        {
            Greenlet done = loop.Spawn(() => Task.CompletedTask);
            Assert.True(done.Task.Wait(s_bound));
            var gate = new TaskCompletionSource();
            Greenlet pending = loop.Spawn(() => gate.Task);

            var threads = new List<int>();
            var linked = new CountdownEvent(2);
            done.Link(g =>
            {
                threads.Add(Environment.CurrentManagedThreadId);
                linked.Signal();
            });
            pending.Link(g =>
            {
                threads.Add(Environment.CurrentManagedThreadId);
                linked.Signal();
            });
            gate.SetResult();

            Assert.True(linked.Wait(s_bound));
            Assert.Equal([loopThread, loopThread], threads);
        }
        finally
        {
            loop.Stop();
            Assert.True(runner.Join(s_bound));
        }
    }

    private static void RunRound(Loop loop, int round)
    {
        var tasks = new Task[SpawnsPerRound];
        var kills = new List<Task>();
        int linksAsked = 0;
        int linksRun = 0;
        for (int i = 0; i < tasks.Length; i++)
        {
            Greenlet g = loop.Spawn(() => Task.CompletedTask);

            // Vary the distance between the spawn and the reads so that they land on every
            // side of the loop thread's completion of the same greenlet.
            if ((i & 7) == 0)
            {
                Thread.SpinWait(i % 200);
            }

            switch (i % 16)
            {
                case 3:
                    g.Link(_ => Interlocked.Increment(ref linksRun));
                    linksAsked++;
                    break;
                case 7:
                    kills.Add(g.KillAsync());
                    break;
            }

            tasks[i] = g.Task;
        }

        // Every body completes synchronously and every spawn, kill and link went through the
        // loop's FIFO inbox, so once a callback posted after them has run, each greenlet is
        // completed and each Task must already be: a Task still pending now never completes.
        var drained = new ManualResetEventSlim();
        loop.Post(drained.Set);
        Assert.True(drained.Wait(s_bound));
        int lost = tasks.Count(t => !t.IsCompleted);
        Assert.True(lost == 0, $"round {round}: {lost} of {tasks.Length} greenlet tasks never completed");
        Assert.All(kills, k => Assert.True(k.IsCompletedSuccessfully));
        Assert.Equal(linksAsked, Volatile.Read(ref linksRun));
    }

    [Fact]
    public void Spawn_FromAnotherThread_RacingDispose_EveryGreenletItReturnedEnds()
    {
        // A spawn can pass the disposed check, then Dispose can drain the inbox for the last time,
        // then the spawn can enqueue its start: nobody would ever run or end that greenlet. Many
        // rounds of a thread spawning in a tight loop while the owner disposes give the window
        // many chances; every greenlet Spawn returned must end (run, or killed unstarted).
        for (int round = 0; round < 200; round++)
        {
            var loop = new Loop();
            var spawned = new List<Greenlet>();
            var spawning = new ManualResetEventSlim();
            var spawner = new Thread(() =>
            {
                Func<Task> body = static () => Task.CompletedTask;
                while (true)
                {
                    Greenlet g;
                    try
                    {
                        g = loop.Spawn(body);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }

                    spawned.Add(g);
                    if (spawned.Count == 50)
                    {
                        spawning.Set();
                    }
                }
            })
            {
                IsBackground = true,
                Name = "spawn-racing-dispose",
            };
            spawner.Start();
            Assert.True(spawning.Wait(s_bound));
            loop.RunOnce(TimeSpan.Zero);
            loop.Dispose();
            Assert.True(spawner.Join(s_bound));

            Greenlet? stuck = spawned.Find(g => !g.IsCompleted);
            Assert.True(stuck is null, $"round {round}: {stuck?.Name} of {spawned.Count} never ended");
            Assert.All(spawned, g => Assert.True(g.Task.IsCompleted));
        }
    }
}
