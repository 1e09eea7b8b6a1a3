using EventLoop.Coroutines;
using EventLoop.Internal;
using EventLoop.Timers;

namespace EventLoop;

public sealed partial class Loop
{
    // Sleep operations kept for reuse; 4096 bounds what a burst of concurrent sleeps leaves behind.
    private const int SleepPoolLimit = 4096;

    private static readonly Action<object?> s_fireTimer = static s =>
    {
        var timer = (TimerHandle)s!;
        if (!timer.IsCancelled)
        {
            new Scheduling.ReadyItem(timer.Callback!, timer.State, null).Invoke();
        }
    };

    private readonly Stack<SleepOperation> _sleepPool = new();
    private readonly YieldSource _yield;

    /// <summary>
    /// Runs <paramref name="callback"/> on the loop thread once <paramref name="delay"/> has
    /// passed (never earlier). Timers with equal deadlines run in the order they were scheduled.
    /// </summary>
    /// <param name="delay">How long to wait; zero runs it on the next iteration.</param>
    /// <param name="callback">The callback.</param>
    /// <returns>A handle whose <see cref="TimerHandle.Cancel"/> prevents the call.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public TimerHandle CallLater(TimeSpan delay, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        VerifyAccess(nameof(CallLater));
        if (delay < TimeSpan.Zero)
        {
            ThrowHelper.ThrowNegativeDelay(nameof(delay), delay);
        }

        var timer = new TimerHandle(this) { Callback = callback };
        ScheduleTimer(timer, delay);
        return timer;
    }

    /// <summary>
    /// Suspends the calling coroutine for <paramref name="delay"/> of loop time. Once warm it
    /// allocates nothing. <see cref="TimeSpan.Zero"/> yields to the loop like <see cref="Yield"/>.
    /// Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is
    /// cancelled or the greenlet is killed. Loop thread.
    /// </summary>
    /// <param name="delay">How long to sleep; <see cref="Timeout.InfiniteTimeSpan"/> sleeps until cancelled.</param>
    /// <param name="cancellationToken">Cancels the sleep.</param>
    /// <returns>A ValueTask to await once.</returns>
    public ValueTask Sleep(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        VerifyAccess(nameof(Sleep));
        if (delay < TimeSpan.Zero && delay != Timeout.InfiniteTimeSpan)
        {
            ThrowHelper.ThrowNegativeDelay(nameof(delay), delay);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (delay == TimeSpan.Zero)
        {
            return Yield();
        }

        SleepOperation op = _sleepPool.TryPop(out SleepOperation? pooled) ? pooled : new SleepOperation(this);
        return op.Start(delay, cancellationToken);
    }

    /// <summary>
    /// Lets every other ready callback run, resuming on the next iteration (gevent's <c>sleep(0)</c>).
    /// Allocates nothing. A greenlet killed meanwhile throws when it resumes. Loop thread.
    /// </summary>
    /// <returns>A ValueTask to await once.</returns>
    public ValueTask Yield()
    {
        VerifyAccess(nameof(Yield));
        Exception? abort = CurrentGreenlet?.PendingAbort();
        return abort is null ? _yield.Create() : ValueTask.FromException(abort);
    }

    /// <summary>
    /// How long a host may wait before it must call <see cref="RunOnce"/> again: zero when work
    /// is ready, the time to the next timer, or <see cref="Timeout.InfiniteTimeSpan"/> when
    /// only descriptor readiness (or a post from another thread) can bring work. On a virtual
    /// clock the time to the next timer is virtual time, so <c>RunOnce(loop.GetPollTimeout())</c>
    /// jumps to that timer (a zero timeout never moves a virtual clock).
    /// </summary>
    /// <returns>The time the loop may sleep.</returns>
    public TimeSpan GetPollTimeout()
    {
        VerifyAccess(nameof(GetPollTimeout));
        if (_runQueue.Count > 0 || _inbox.HasItems || _stopRequested)
        {
            return TimeSpan.Zero;
        }

        if (!_timers.TryPeekDeadline(out long deadline))
        {
            return Timeout.InfiniteTimeSpan;
        }

        long remaining = deadline - ReadClock();
        return remaining <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(remaining);
    }

    internal void ScheduleTimer(TimerHandle timer, TimeSpan delay) => timer.Deadline = ScheduleTimer((ITimerNode)timer, delay);

    /// <summary>Puts <paramref name="node"/> in the heap, due <paramref name="delay"/> from now; returns the deadline.</summary>
    internal long ScheduleTimer(ITimerNode node, TimeSpan delay)
    {
        // A fresh clock read, not the iteration's cached time: callbacks ran since it was cached,
        // and a deadline computed from the stale value would fire early.
        long now = ReadClock();
        long ticks = delay.Ticks;
        long deadline = ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
        node.Sequence = _timerSequence++;
        _timers.Push(node, deadline);
        if (_host is not null)
        {
            OnQueuedBetweenIterations(); // a host may wait on BackendDescriptor next
        }

        return deadline;
    }

    internal void RemoveTimer(ITimerNode node) => _timers.Remove(node);

    /// <summary>Queues a due user timer's callback to run with the other ready callbacks.</summary>
    internal void QueueTimerCallback(TimerHandle timer) => _runQueue.Enqueue(new Scheduling.ReadyItem(s_fireTimer, timer, timer.Owner));

    internal void ReturnSleep(SleepOperation op)
    {
        if (_sleepPool.Count < SleepPoolLimit && !_disposed)
        {
            _sleepPool.Push(op);
        }
    }
}
