using System.Diagnostics;

namespace EventLoop.Tests.Core;

/// <summary>
/// <see cref="LoopOptions.SpinBeforePoll"/>: a loop that spins before it sleeps picks up posts from
/// other threads, and never loses one that arrives as the spin ends (the poll is then woken).
/// </summary>
public sealed class SpinBeforePollTests
{
    [Fact]
    public void PingPong_BetweenTwoSpinningThreads_LosesNoWakeUp()
    {
        // A post that lands just before, during or just after the spin: each must wake the loop.
        const int RoundTrips = 20_000;
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromMicroseconds(20) });
        using var reply = new SemaphoreSlim(0);
        int handled = 0;
        var peer = new Thread(() =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                if (i % 64 == 0)
                {
                    Thread.Sleep(0); // vary the timing: some posts land after the spin gave up
                }

                loop.Post(() =>
                {
                    handled++;
                    reply.Release();
                });
                if (!reply.Wait(TimeSpan.FromSeconds(30)))
                {
                    return; // a lost wake-up: the assertion below reports it
                }
            }

            loop.Stop();
        });

        peer.Start();
        loop.Run();
        Assert.True(peer.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal(RoundTrips, handled);
    }

    [Fact]
    public void Post_WhileTheLoopSleepsAfterItsSpin_WakesIt()
    {
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromMicroseconds(50) });
        bool ran = false;
        using var spun = new ManualResetEventSlim();
        var poster = new Thread(() =>
        {
            spun.Wait();
            Thread.Sleep(20); // well past the 50 µs spin: the loop sleeps in its poll by now
            loop.Post(() => ran = true);
        });
        poster.Start();
        loop.Post(spun.Set);
        while (!ran)
        {
            loop.RunOnce(Timeout.InfiniteTimeSpan);
        }

        Assert.True(poster.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Stop_FromAnotherThreadDuringTheSpin_EndsRun()
    {
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromSeconds(30) });
        var stopper = new Thread(loop.Stop);
        loop.Post(stopper.Start);
        loop.Run(); // returns although the spin would last 30 s
        Assert.True(stopper.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void TimerDueDuringTheSpin_FiresWhenDue_NotAfterASecondFullTimeout()
    {
        // The spin is bounded by the poll's timeout; when it runs out, the poll may wait only for
        // what is left of that timeout, not for all of it again.
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromSeconds(30) });
        TimeSpan due = TimeSpan.FromMilliseconds(400);
        var watch = Stopwatch.StartNew();
        loop.Run(async () => await loop.Sleep(due));
        watch.Stop();

        Assert.InRange(watch.Elapsed, due * 0.95, due * 1.75); // a second full timeout would be 2 × due
    }

    [Fact]
    public void DescriptorReadyDuringTheSpin_IsHandledBeforeTheSpinEnds()
    {
        // The spin polls registered descriptors without blocking: data that arrives while the
        // loop spins is handled then, not once the spin (30 s here) has run out.
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromSeconds(30) });
        using var pair = new SocketPair();
        bool handled = false;
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) =>
        {
            handled = true;
            loop.Stop();
        });
        var writer = new Thread(() => pair.Right.Send("x"u8));

        // Liveness bound only: a loop that misses the data is stopped here (its stop then polls and
        // finds the data), and the assertion reports that the spin did not see it.
        using var rescue = new LoopRescue(loop, TimeSpan.FromSeconds(10));
        loop.Post(writer.Start); // the loop then has nothing to do: it spins while the writer sends
        loop.Run();

        Assert.True(writer.Join(TimeSpan.FromSeconds(30)));
        Assert.True(handled);
        Assert.False(rescue.Fired, "the data was handled only after the spin was stopped");
    }

    [Fact]
    public void Spin_NeverOutlastsTheNextTimer()
    {
        using var loop = new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromSeconds(30) });
        bool fired = false;
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => fired = true);
        var started = DateTime.UtcNow;
        while (!fired)
        {
            loop.RunOnce(Timeout.InfiniteTimeSpan);
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the spin ran past the timer");
    }

    [Fact]
    public void NegativeSpin_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Loop(new LoopOptions { SpinBeforePoll = TimeSpan.FromTicks(-1) }));
    }

    [Fact]
    public void LoopGroup_PassesTheSpinToItsLoops_AndInvokeRoundTripsWork()
    {
        using var group = new LoopGroup(2, new LoopGroupOptions { Name = "spin", Loop = new LoopOptions { SpinBeforePoll = TimeSpan.FromMicroseconds(30) } });
        int result = group[0].InvokeAsync(async () =>
        {
            int sum = 0;
            for (int i = 0; i < 1000; i++)
            {
                int n = i;
                sum += await group[1].InvokeAsync(() => Task.FromResult(n));
            }

            return sum;
        }).WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

        Assert.Equal(Enumerable.Range(0, 1000).Sum(), result);
        group.StopAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
    }
}
