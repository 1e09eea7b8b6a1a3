namespace EventLoop.Tests.Core;

public sealed class PostTests
{
    [Fact]
    public void Post_OnLoopThread_RunsFifo()
    {
        using var loop = new Loop();
        var order = new List<int>();
        for (int i = 0; i < 1000; i++)
        {
            int n = i;
            loop.Post(() => order.Add(n));
        }

        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(Enumerable.Range(0, 1000), order);
    }

    [Fact]
    public void Post_FromSeveralThreads_EachOnceOnLoopThread_PerProducerOrderKept()
    {
        const int Producers = 4;
        const int PerProducer = 5000;
        using var loop = new Loop();
        var seen = new List<(int Producer, int Seq)>();
        int loopThread = 0;
        bool offThread = false;
        int remaining = Producers * PerProducer;

        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    int seq = i;
                    loop.Post(() =>
                    {
                        offThread |= Environment.CurrentManagedThreadId != loopThread;
                        seen.Add((p, seq));
                        remaining--;
                    });
                }
            })).ToArray();
            await Task.WhenAll(producers);
            while (remaining > 0)
            {
                await loop.Yield();
            }
        });

        Assert.False(offThread);
        Assert.Equal(Producers * PerProducer, seen.Count);
        for (int p = 0; p < Producers; p++)
        {
            Assert.Equal(Enumerable.Range(0, PerProducer), seen.Where(s => s.Producer == p).Select(s => s.Seq));
        }
    }

    [Fact]
    public void Post_FromOtherThread_WakesLoopBlockedInPoll()
    {
        using var loop = new Loop();
        bool ran = false;
        var poster = new Thread(() => loop.Post(() => ran = true));
        poster.Start();
        // Blocks in the poll with no timeout until the post's wake-up arrives.
        while (!ran)
        {
            loop.RunOnce(Timeout.InfiniteTimeSpan);
        }

        Assert.True(poster.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Post_FromTheCreatingThread_WhileAnotherThreadStartsRunningTheLoop_RunsEveryCallbackOnce()
    {
        // The creating thread owns the loop until another thread runs it: its posts go straight
        // into the run queue. One that races the other thread's entry into Run must still be
        // handed over (not written into the queue the new thread is already reading), and wake it.
        const int Rounds = 300;
        for (int round = 0; round < Rounds; round++)
        {
            using var loop = new Loop();
            int ran = 0, posted = 0;
            bool stopPosted = false;
            using var go = new Barrier(2);
            var runner = new Thread(() =>
            {
                go.SignalAndWait();
                loop.Run();
            });
            runner.Start();
            go.SignalAndWait();
            while (!loop.IsRunning && posted < 1_000_000)
            {
                loop.Post(() => ran++);
                posted++;
            }

            for (int i = 0; i < 16; i++)
            {
                loop.Post(() => ran++);
                posted++;
            }

            loop.Post(() => { stopPosted = true; loop.Stop(); });
            Assert.True(runner.Join(TimeSpan.FromSeconds(30)), $"round {round}: the loop missed the posts ({Volatile.Read(ref ran)} of {posted} ran)");
            Assert.True(stopPosted);
            loop.RunOnce(TimeSpan.Zero); // what Stop left queued
            Assert.Equal(posted, ran);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the slow-callback timer runs the phase item by item
    public void Post_CallbacksThatThrow_ReportedAndTheRestOfThePhaseRunsInOrder_WorkQueuedMeanwhileWaits(bool timed)
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions
        {
            UnhandledException = reported.Add,
            SlowCallbackThreshold = timed ? TimeSpan.FromHours(1) : null,
        });
        var order = new List<string>();
        var first = new InvalidTimeZoneException("first");
        var last = new InvalidTimeZoneException("last");
        loop.Post(() =>
        {
            order.Add("a");
            loop.Post(() => order.Add("queued during the phase"));
        });
        loop.Post(() => throw first);
        loop.Post(() => order.Add("b"));
        loop.Post(() => throw last);

        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(["a", "b"], order);
        Assert.Equal([first, last], reported);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(["a", "b", "queued during the phase"], order);
    }

    [Fact]
    public void Post_CallbackThatRepostsItself_DoesNotStarveTimers()
    {
        using var loop = new Loop();
        bool timerFired = false;
        int spins = 0;
        void Spin()
        {
            spins++;
            if (!timerFired)
            {
                loop.Post(Spin);
            }
        }

        loop.CallLater(TimeSpan.FromMilliseconds(5), () => timerFired = true);
        loop.Post(Spin);
        while (!timerFired)
        {
            loop.RunOnce(Timeout.InfiniteTimeSpan);
        }

        Assert.True(spins > 0);
    }

    [Fact]
    public void Post_AfterDispose_Throws()
    {
        var loop = new Loop();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Post(() => { }));
        loop.Dispose(); // idempotent
    }

    [Fact]
    public void Stop_FromAnotherThread_EndsRun()
    {
        using var loop = new Loop();
        using var started = new ManualResetEventSlim();
        loop.Post(started.Set);
        var stopper = new Thread(() =>
        {
            started.Wait();
            loop.Stop();
        });
        stopper.Start();
        loop.Run(); // returns only because of Stop
        Assert.True(stopper.Join(TimeSpan.FromSeconds(30)));
    }
}
