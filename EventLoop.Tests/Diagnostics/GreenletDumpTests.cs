using System.Net;
using EventLoop.Net;

namespace EventLoop.Tests.Diagnostics;

/// <summary>The greenlet registry: parents, states, ages and waits in plain words, and the dump as a tree.</summary>
public sealed class GreenletDumpTests
{
    private sealed record Job(int Number);

    [Fact]
    public void GetGreenlets_KnownTree_ReportsParentsStatesAndWaits()
    {
        using var loop = new Loop(new LoopOptions { VirtualTime = true, Name = "dumped" });
        IReadOnlyList<GreenletInfo>? snapshot = null;
        string dump = string.Empty;
        Greenlet? sleeper = null, getter = null, scoped = null, pending = null;
        loop.Run(async () =>
        {
            var jobs = new LoopQueue<Job>(loop);
            sleeper = loop.Spawn(async () =>
            {
                scoped = loop.Spawn(async () =>
                {
                    using CancelScope scope = loop.FailAfter(TimeSpan.FromSeconds(5));
                    await jobs.GetAsync();
                });
                scoped.Name = "scoped";
                await loop.Sleep(TimeSpan.FromSeconds(10));
            });
            sleeper.Name = "sleeper";
            getter = loop.Spawn(async () => await jobs.GetAsync());
            getter.Name = "getter";
            await loop.Sleep(TimeSpan.FromSeconds(2)); // everyone is suspended now; virtual time moved 2 s
            pending = loop.Spawn(() => Task.CompletedTask);
            pending.Name = "pending";

            snapshot = loop.GetGreenlets();
            using var writer = new StringWriter();
            loop.DumpGreenlets(writer);
            dump = writer.ToString();
            foreach (Greenlet g in new[] { sleeper, scoped!, getter, pending })
            {
                g.Kill();
            }
        });

        Assert.NotNull(snapshot);
        GreenletInfo main = snapshot.Single(g => g.Name == "main");
        GreenletInfo s = snapshot.Single(g => g.Name == "sleeper");
        GreenletInfo c = snapshot.Single(g => g.Name == "scoped");
        GreenletInfo gt = snapshot.Single(g => g.Name == "getter");
        GreenletInfo p = snapshot.Single(g => g.Name == "pending");

        Assert.Null(main.ParentId);
        Assert.Equal(GreenletState.Running, main.State);
        Assert.Null(main.WaitingOn);
        Assert.Equal(main.Id, s.ParentId);
        Assert.Equal(s.Id, c.ParentId);
        Assert.Equal(main.Id, gt.ParentId);
        Assert.Equal(sleeper!.Id, s.Id);
        Assert.Equal(main.Id, sleeper.ParentId);

        Assert.Equal(GreenletState.Suspended, s.State);
        Assert.Equal("Sleep, 8.0 s left", s.WaitingOn);
        Assert.Equal(TimeSpan.FromSeconds(2), s.Age);
        Assert.Equal("LoopQueue<Job>.GetAsync", gt.WaitingOn);
        Assert.Equal("LoopQueue<Job>.GetAsync; within FailAfter/MoveOnAfter, 3.0 s left", c.WaitingOn);
        Assert.Equal(GreenletState.Pending, p.State);
        Assert.Null(p.WaitingOn);
        Assert.Equal(TimeSpan.Zero, p.Age);

        string[] lines = dump.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Greenlets of loop 'dumped' (5 live):", lines[0]);
        Assert.Equal($"  #{main.Id} 'main' running, age 2.0 s", lines[1]);
        Assert.Equal($"    #{s.Id} 'sleeper' suspended, age 2.0 s, waiting on Sleep, 8.0 s left", lines[2]);
        Assert.Equal($"      #{c.Id} 'scoped' suspended, age 2.0 s, waiting on LoopQueue<Job>.GetAsync; within FailAfter/MoveOnAfter, 3.0 s left", lines[3]);
        Assert.Equal($"    #{gt.Id} 'getter' suspended, age 2.0 s, waiting on LoopQueue<Job>.GetAsync", lines[4]);
        Assert.Equal($"    #{p.Id} 'pending' pending, age 0 ms", lines[5]);
        Assert.Equal(6, lines.Length);
    }

    [Fact]
    public void GetGreenlets_ReceiveOnASocket_NamesTheOperationAndAddresses()
    {
        using Loop loop = new();
        string? waitingOn = null;
        EndPoint? serverEnd = null;
        loop.Run(async () =>
        {
            using StreamListener listener = loop.Listen(new IPEndPoint(IPAddress.Loopback, 0));
            serverEnd = listener.LocalEndPoint;
            Task<StreamConnection> accepting = loop.Spawn(async () => await listener.AcceptAsync()).Task;
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection server = await accepting;
            Greenlet receiver = loop.Spawn(async () => await server.ReceiveAsync(new byte[16]));
            await loop.Yield();
            await loop.Yield();
            waitingOn = loop.GetGreenlets().Single(g => g.Id == receiver.Id).WaitingOn;
            receiver.Kill();
            await receiver.KillAsync();
        });

        Assert.StartsWith($"Receive on {serverEnd} from 127.0.0.1:", waitingOn, StringComparison.Ordinal);
    }

    [Fact]
    public void GetGreenlets_SpawnedOutsideAGreenlet_HasNoParent_AndCompletedOnesLeaveTheRegistry()
    {
        using Loop loop = new(new LoopOptions { VirtualTime = true });
        Greenlet done = loop.Spawn(() => Task.CompletedTask);
        Greenlet waiting = loop.Spawn(() => loop.Sleep(TimeSpan.FromSeconds(1)).AsTask());
        loop.RunOnce(TimeSpan.Zero);

        IReadOnlyList<GreenletInfo> live = loop.GetGreenlets();

        Assert.True(done.IsCompleted);
        Assert.Null(waiting.ParentId);
        GreenletInfo only = Assert.Single(live);
        Assert.Equal(waiting.Id, only.Id);
        Assert.StartsWith("Sleep, ", only.WaitingOn, StringComparison.Ordinal);
    }

    [Fact]
    public void GetGreenlets_SleepsBeyondTheRangeOfTheDumpsClock_SayWhatTheyKnow()
    {
        using Loop loop = new(new LoopOptions { VirtualTime = true });
        Greenlet month = loop.Spawn(() => loop.Sleep(TimeSpan.FromDays(30)).AsTask());
        Greenlet forever = loop.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
        Greenlet day = loop.Spawn(() => loop.Sleep(TimeSpan.FromDays(1)).AsTask());
        loop.RunOnce(TimeSpan.Zero);

        IReadOnlyList<GreenletInfo> live = loop.GetGreenlets();

        Assert.Equal("Sleep, more than 24 days left", live.Single(g => g.Id == month.Id).WaitingOn);
        Assert.Equal("Sleep, no deadline", live.Single(g => g.Id == forever.Id).WaitingOn);
        Assert.Equal("Sleep, 24.0 h left", live.Single(g => g.Id == day.Id).WaitingOn);
        foreach (Greenlet g in new[] { month, forever, day })
        {
            g.Kill();
        }

        loop.RunOnce(TimeSpan.Zero);
    }

    [Fact]
    public void GetGreenlets_FromAnotherThreadWhileIdle_ARunStartedMeanwhileWaitsForTheSnapshot()
    {
        using var inspecting = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var ran = new ManualResetEventSlim();
        using var loop = new Loop();
        Greenlet named = loop.Spawn(() => loop.Sleep(TimeSpan.FromHours(1)).AsTask());
        named.SetNameSource(new BlockingName(inspecting, release));
        Greenlet quick = loop.Spawn(() => Task.CompletedTask);

        // A monitor thread reads the greenlets of the idle loop; the name source holds it mid-walk.
        IReadOnlyList<GreenletInfo>? snapshot = null;
        var inspector = new Thread(() => snapshot = loop.GetGreenlets()) { IsBackground = true };
        inspector.Start();
        Assert.True(inspecting.Wait(TimeSpan.FromSeconds(20)));

        // A driver thread starts an iteration meanwhile: it must not run greenlets under the walk.
        var driver = new Thread(() =>
        {
            loop.RunOnce(TimeSpan.Zero);
            ran.Set();
        })
        { IsBackground = true };
        driver.Start();
        bool ranDuringSnapshot = ran.Wait(TimeSpan.FromMilliseconds(500));
        release.Set();
        inspector.Join();
        driver.Join();

        Assert.False(ranDuringSnapshot, "RunOnce ran greenlets while another thread read them");
        Assert.True(quick.IsCompleted);
        Assert.Equal([named.Id, quick.Id], snapshot!.Select(i => i.Id).Order());
        Assert.All(snapshot!, i => Assert.Equal(GreenletState.Pending, i.State));
        named.Kill();
        Assert.Equal([named], loop.JoinAll([named], TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void GetGreenlets_WhoseNameSourceRunsTheLoop_RefusesThatRun_AndTheLoopRunsLater()
    {
        using var loop = new Loop();
        Exception? refused = null;
        Greenlet named = loop.Spawn(() => Task.CompletedTask);
        named.SetNameSource(new CallbackName(() => refused = Record.Exception(() => loop.RunOnce(TimeSpan.Zero))));

        IReadOnlyList<GreenletInfo>? snapshot = null;
        var inspector = new Thread(() => snapshot = loop.GetGreenlets()) { IsBackground = true };
        inspector.Start();
        Assert.True(inspector.Join(TimeSpan.FromSeconds(20)), "the snapshot did not end");

        Assert.IsType<InvalidOperationException>(refused);
        Assert.Equal(GreenletState.Pending, Assert.Single(snapshot!).State);
        Assert.False(loop.IsRunning);
        Assert.Equal([named], loop.JoinAll([named], TimeSpan.FromSeconds(20)));
    }

    private sealed class CallbackName(Action onRead) : Coroutines.IGreenletNameSource
    {
        public string GetGreenletName()
        {
            onRead();
            return "calls back";
        }
    }

    private sealed class BlockingName(ManualResetEventSlim reading, ManualResetEventSlim release) : Coroutines.IGreenletNameSource
    {
        public string GetGreenletName()
        {
            reading.Set();
            release.Wait(TimeSpan.FromSeconds(20));
            return "held";
        }
    }

    [Fact]
    public void GetGreenlets_OffTheLoopThreadWhileItRuns_Throws()
    {
        using Loop loop = new();
        loop.Run(async () =>
        {
            Exception? error = await Task.Run(() => Record.Exception(() => loop.GetGreenlets()));
            Assert.IsType<InvalidOperationException>(error);
        });
    }
}
