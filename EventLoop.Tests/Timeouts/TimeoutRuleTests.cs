using EventLoop.Tests.Sync;

namespace EventLoop.Tests.Timeouts;

/// <summary>
/// The one rule for per-call <c>timeout</c> parameters, on every primitive that has one: a wait
/// whose only result is "it happened" returns false; a wait that yields a value, an item or a
/// permit throws <see cref="LoopTimeoutException"/> (no scope), at the deadline of loop time.
/// </summary>
public sealed class TimeoutRuleTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    public static TheoryData<string> ValueWaits => new()
    {
        nameof(LoopQueue<int>),
        nameof(LifoLoopQueue<int>),
        nameof(PriorityLoopQueue<int>),
        nameof(JoinableLoopQueue<int>),
        nameof(LoopChannel<int>),
        nameof(LoopResult<int>),
        nameof(LoopSemaphore),
        nameof(BoundedLoopSemaphore),
    };

    public static TheoryData<string> SignalWaits => new()
    {
        nameof(LoopEvent),
        "JoinableLoopQueue.JoinAsync",
        "GreenletGroup.JoinAsync",
    };

    [Theory]
    [MemberData(nameof(ValueWaits))]
    public void ValueWait_TimesOut_ThrowsLoopTimeoutExceptionWithoutScope_AtTheDeadline(string primitive)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            LoopTimeoutException ex = await Assert.ThrowsAsync<LoopTimeoutException>(async () => await StartValueWait(loop, primitive));
            Assert.Null(ex.Scope);
            Assert.IsAssignableFrom<TimeoutException>(ex);
            Assert.Equal(s_timeout, loop.Now - start);
        });
    }

    [Theory]
    [MemberData(nameof(SignalWaits))]
    public void SignalWait_TimesOut_ReturnsFalse_AtTheDeadline(string wait)
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            TimeSpan start = loop.Now;
            Assert.False(await StartSignalWait(loop, wait));
            Assert.Equal(s_timeout, loop.Now - start);
        });
    }

    [Fact]
    public void SemaphoreAcquire_TimedOut_TakesNoPermit()
    {
        using Loop loop = SyncTestLoop.Create();
        loop.Run(async () =>
        {
            var semaphore = new LoopSemaphore(loop, 0);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () => await semaphore.AcquireAsync(s_timeout));
            semaphore.Release();
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }

    private static async Task StartValueWait(Loop loop, string primitive)
    {
        switch (primitive)
        {
            case nameof(LoopQueue<int>):
                await new LoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LifoLoopQueue<int>):
                await new LifoLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(PriorityLoopQueue<int>):
                await new PriorityLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(JoinableLoopQueue<int>):
                await new JoinableLoopQueue<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopChannel<int>):
                await new LoopChannel<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopResult<int>):
                await new LoopResult<int>(loop).GetAsync(s_timeout);
                break;
            case nameof(LoopSemaphore):
                await new LoopSemaphore(loop, 0).AcquireAsync(s_timeout);
                break;
            case nameof(BoundedLoopSemaphore):
                var bounded = new BoundedLoopSemaphore(loop, 1);
                using (await bounded.AcquireAsync(s_timeout))
                {
                    await bounded.AcquireAsync(s_timeout);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(primitive), primitive, null);
        }
    }

    private static async Task<bool> StartSignalWait(Loop loop, string wait)
    {
        switch (wait)
        {
            case nameof(LoopEvent):
                return await new LoopEvent(loop).WaitAsync(s_timeout);
            case "JoinableLoopQueue.JoinAsync":
                var queue = new JoinableLoopQueue<int>(loop);
                queue.TryPut(1); // an unfinished task: JoinAsync waits for TaskDone
                return await queue.JoinAsync(s_timeout);
            case "GreenletGroup.JoinAsync":
                var group = new GreenletGroup(loop);
                Greenlet member = group.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
                bool joined = await group.JoinAsync(s_timeout);
                member.Kill();
                return joined;
            default:
                throw new ArgumentOutOfRangeException(nameof(wait), wait, null);
        }
    }
}
