using EventLoop.Polling;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace EventLoop.Tests.Core;

/// <summary>Phase logic against a substitute poller and a fake clock.</summary>
public sealed class LoopRunOnceTests
{
    private readonly IPoller _poller = Substitute.For<IPoller>();
    private readonly IWaker _waker = Substitute.For<IWaker>();
    private readonly FakeTimeProvider _time = new();
    private readonly List<int> _timeouts = [];

    public LoopRunOnceTests()
    {
        _poller.Kind.Returns(PollerKind.Epoll);
        _waker.Fd.Returns(1000);
        _poller.Poll(Arg.Any<ReadyEvent[]>(), Arg.Do<int>(t => _timeouts.Add(t))).Returns(0);
    }

    private Loop CreateLoop() => new(new LoopOptions { TimeProvider = _time }, _poller, _waker);

    [Fact]
    public void RunOnce_ReadyWorkPending_PollsWithZeroTimeout()
    {
        using Loop loop = CreateLoop();
        using var pair = new SocketPair();
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        loop.Post(() => { });
        loop.RunOnce(TimeSpan.FromSeconds(5));
        Assert.Equal([0], _timeouts);
    }

    [Fact]
    public void RunOnce_ReadyWorkAndNoDescriptors_SkipsThePollSystemCall()
    {
        using Loop loop = CreateLoop();
        bool ran = false;
        loop.Post(() => ran = true);
        loop.RunOnce(TimeSpan.FromSeconds(5));
        Assert.True(ran);
        Assert.Empty(_timeouts);
    }

    [Fact]
    public void RunOnce_NothingPending_PollsWithCallerTimeout()
    {
        using Loop loop = CreateLoop();
        loop.RunOnce(TimeSpan.FromMilliseconds(7));
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        Assert.Equal([7, -1], _timeouts);
    }

    [Fact]
    public void RunOnce_TimerPending_PollsUntilTimer()
    {
        using Loop loop = CreateLoop();
        TimerHandle timer = loop.CallLater(TimeSpan.FromMilliseconds(50), () => { });
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        Assert.Equal([50, 30], _timeouts);
        timer.Cancel();
    }

    [Fact]
    public void RunOnce_CallerTimeoutShorterThanTimer_CapsPollTimeout()
    {
        using Loop loop = CreateLoop();
        TimerHandle timer = loop.CallLater(TimeSpan.FromSeconds(10), () => { });
        loop.RunOnce(TimeSpan.FromMilliseconds(15));
        Assert.Equal([15], _timeouts);
        timer.Cancel();
    }

    [Fact]
    public void RunOnce_SubMillisecondTimer_RoundsPollTimeoutUpToOneMillisecond()
    {
        using Loop loop = CreateLoop();
        TimerHandle timer = loop.CallLater(TimeSpan.FromTicks(3), () => { });
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        Assert.Equal([1], _timeouts);
        timer.Cancel();
    }

    [Fact]
    public void RunOnce_TimerNotYetDue_DoesNotFireEarly()
    {
        using Loop loop = CreateLoop();
        bool fired = false;
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => fired = true);
        _time.Advance(TimeSpan.FromMilliseconds(9.99));
        loop.RunOnce(TimeSpan.Zero);
        Assert.False(fired);
        _time.Advance(TimeSpan.FromMilliseconds(0.01));
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(fired);
    }

    [Fact]
    public void RunOnce_Phases_TimersThenIoThenPostedFromOtherThreads()
    {
        var order = new List<string>();
        using Loop loop = CreateLoop();
        using var pair = new SocketPair();
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => order.Add("io"));
        int token = _poller.ReceivedCalls()
            .Where(c => c.GetMethodInfo().Name == nameof(IPoller.Add) && (int)c.GetArguments()[0]! != 1000)
            .Select(c => (int)c.GetArguments()[2]!)
            .Single();
        _poller.Poll(Arg.Any<ReadyEvent[]>(), Arg.Any<int>()).Returns(call =>
        {
            call.ArgAt<ReadyEvent[]>(0)[0] = new ReadyEvent(token, IoEvents.Read);
            return 1;
        });
        loop.CallLater(TimeSpan.Zero, () => order.Add("timer"));
        var poster = new Thread(() => loop.Post(() => order.Add("posted")));
        poster.Start();
        poster.Join();

        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(["timer", "io", "posted"], order);
        registration.Dispose();
    }

    [Fact]
    public void RunOnce_WorkPostedWhileRunning_WaitsForNextIteration()
    {
        using Loop loop = CreateLoop();
        var order = new List<int>();
        loop.Post(() =>
        {
            order.Add(1);
            loop.Post(() => order.Add(3));
        });
        loop.Post(() => order.Add(2));

        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal([1, 2], order);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal([1, 2, 3], order);
    }

    [Fact]
    public void RunOnce_ReturnsWhetherWorkRemains()
    {
        using Loop loop = CreateLoop();
        Assert.False(loop.RunOnce(TimeSpan.Zero));
        TimerHandle timer = loop.CallLater(TimeSpan.FromSeconds(1), () => { });
        Assert.True(loop.RunOnce(TimeSpan.Zero));
        timer.Cancel();
        Assert.False(loop.RunOnce(TimeSpan.Zero));
    }

    [Fact]
    public void GetPollTimeout_ReportsTimeToNextTimer()
    {
        using Loop loop = CreateLoop();
        Assert.Equal(Timeout.InfiniteTimeSpan, loop.GetPollTimeout());
        TimerHandle timer = loop.CallLater(TimeSpan.FromMilliseconds(40), () => { });
        Assert.Equal(TimeSpan.FromMilliseconds(40), loop.GetPollTimeout());
        loop.Post(() => { });
        Assert.Equal(TimeSpan.Zero, loop.GetPollTimeout());
        timer.Cancel();
        loop.RunOnce(TimeSpan.Zero);
    }

    [Fact]
    public void RunOnce_NegativeTimeout_Throws()
    {
        using Loop loop = CreateLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.RunOnce(TimeSpan.FromMilliseconds(-5)));
    }
}
