using EventLoop.Polling;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace EventLoop.Tests.Core;

/// <summary><see cref="Loop.OnBeforePoll"/>: once per iteration, after timers, before the poll timeout is decided.</summary>
public sealed class BeforePollTests
{
    private readonly IPoller _poller = Substitute.For<IPoller>();
    private readonly IWaker _waker = Substitute.For<IWaker>();
    private readonly FakeTimeProvider _time = new();
    private readonly List<string> _events = [];

    public BeforePollTests()
    {
        _poller.Kind.Returns(PollerKind.Epoll);
        _waker.Fd.Returns(1000);
        _poller.Poll(Arg.Any<ReadyEvent[]>(), Arg.Do<int>(t => _events.Add($"poll {t}"))).Returns(0);
    }

    private Loop CreateLoop() => new(new LoopOptions { TimeProvider = _time }, _poller, _waker);

    [Fact]
    public void OnBeforePoll_EachIteration_RunsBeforeThePoll()
    {
        using Loop loop = CreateLoop();
        using var pair = new SocketPair();
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        using IDisposable hook = loop.OnBeforePoll(() => _events.Add("hook"));
        loop.CallLater(TimeSpan.Zero, () => _events.Add("timer"));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        loop.RunOnce(TimeSpan.FromMilliseconds(5));
        loop.RunOnce(TimeSpan.FromMilliseconds(5));

        // The due timer's callback is queued by the timer phase, so the first poll does not block.
        Assert.Equal(["hook", "poll 0", "timer", "hook", "poll 5"], _events);
    }

    [Fact]
    public void OnBeforePoll_HookQueuesWork_PollDoesNotBlock()
    {
        using Loop loop = CreateLoop();
        using var pair = new SocketPair();
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        bool ran = false;
        using IDisposable hook = loop.OnBeforePoll(() => loop.Post(() => ran = true));

        loop.RunOnce(TimeSpan.FromSeconds(5));

        Assert.Equal(["poll 0"], _events);
        Assert.True(ran);
    }

    [Fact]
    public void Dispose_RemovesTheHook_OtherHooksKeepRunningInOrder()
    {
        using Loop loop = CreateLoop();
        IDisposable first = loop.OnBeforePoll(() => _events.Add("first"));
        using IDisposable second = loop.OnBeforePoll(() => _events.Add("second"));

        loop.RunOnce(TimeSpan.Zero);
        first.Dispose();
        first.Dispose();
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(["first", "second", "second"], _events);
    }

    [Fact]
    public void Dispose_ByAnEarlierHookInTheSamePass_LaterHookDoesNotRun()
    {
        using Loop loop = CreateLoop();
        IDisposable? second = null;
        using IDisposable first = loop.OnBeforePoll(() => second!.Dispose());
        second = loop.OnBeforePoll(() => _events.Add("second"));

        loop.RunOnce(TimeSpan.Zero);

        Assert.Empty(_events);
    }

    [Fact]
    public void OnBeforePoll_HookThrows_ReportedAndStillRegistered()
    {
        var errors = new List<Exception>();
        using var loop = new Loop(new LoopOptions { TimeProvider = _time, UnhandledException = errors.Add }, _poller, _waker);
        int calls = 0;
        using IDisposable hook = loop.OnBeforePoll(() =>
        {
            calls++;
            throw new InvalidOperationException("boom");
        });

        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(2, calls);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("boom", e.Message));
    }

    [Fact]
    public void OnBeforePoll_OnlyHooksRegistered_RunOnceReportsNoPendingWork()
    {
        using Loop loop = CreateLoop();
        using IDisposable hook = loop.OnBeforePoll(() => { });

        Assert.False(loop.RunOnce(TimeSpan.Zero));
    }

    [Fact]
    public void OnBeforePoll_NullCallback_Throws()
    {
        using Loop loop = CreateLoop();
        Assert.Throws<ArgumentNullException>(() => loop.OnBeforePoll(null!));
    }
}
