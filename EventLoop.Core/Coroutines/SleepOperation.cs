using EventLoop.Timers;

namespace EventLoop.Coroutines;

/// <summary>
/// A pooled <see cref="Loop.Sleep"/> that is its own timer: one object per concurrent sleep, reused
/// after its result is taken, so a warm loop sleeps without allocating. Completes when the timer fires,
/// or with <see cref="OperationCanceledException"/> when the token is canceled or the greenlet
/// is killed. A timer that fired in the timer phase beats a cancellation that came later.
/// </summary>
internal sealed class SleepOperation : LoopWaitSource<bool>, ITimerNode
{
    private int _heapIndex = TimerQueue.NotScheduled;
    private long _sequence;
    // For a dump only, in the 4 bytes the object had free: the deadline in loop milliseconds modulo
    // 2^32 (0: none, or more than 24 days away), so "time left" reads right below 24 days.
    private uint _deadlineMs;

    public SleepOperation(Loop loop)
        : base(loop)
    {
    }

    int ITimerNode.HeapIndex
    {
        get => _heapIndex;
        set => _heapIndex = value;
    }

    long ITimerNode.Sequence
    {
        get => _sequence;
        set => _sequence = value;
    }

    /// <summary>Arms the sleep; returns the ValueTask to hand out.</summary>
    public ValueTask Start(TimeSpan delay, CancellationToken cancellationToken)
    {
        _deadlineMs = 0;
        if (Begin(cancellationToken) && delay != Timeout.InfiniteTimeSpan)
        {
            long deadline = Loop.ScheduleTimer(this, delay);
            if (delay.TotalMilliseconds < int.MaxValue)
            {
                _deadlineMs = Math.Max(1u, unchecked((uint)(deadline / TimeSpan.TicksPerMillisecond)));
            }
        }

        return new ValueTask(this, Version);
    }

    void ITimerNode.OnDue(Loop loop) => TrySetResult(true);

    public override string Describe()
    {
        if (_deadlineMs == 0)
        {
            return _heapIndex == TimerQueue.NotScheduled ? "Sleep, no deadline" : "Sleep, more than 24 days left";
        }

        int left = unchecked((int)(_deadlineMs - (uint)(Loop.ReadNow() / TimeSpan.TicksPerMillisecond)));
        return $"Sleep, {GreenletDump.FormatSpan(TimeSpan.FromMilliseconds(left))} left";
    }

    protected override void OnCompleting()
    {
        if (_heapIndex != TimerQueue.NotScheduled)
        {
            Loop.RemoveTimer(this);
        }
    }

    protected override void OnResultTaken() => Loop.ReturnSleep(this);
}
