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
    private long _deadline; // loop ticks; long.MaxValue: no deadline

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
        _deadline = long.MaxValue;
        if (Begin(cancellationToken) && delay != Timeout.InfiniteTimeSpan)
        {
            _deadline = Loop.ScheduleTimer(this, delay);
        }

        return new ValueTask(this, Version);
    }

    void ITimerNode.OnDue(Loop loop) => TrySetResult(true);

    public override string Describe() => _deadline == long.MaxValue
        ? "Sleep, no deadline"
        : $"Sleep, {GreenletDump.FormatSpan(TimeSpan.FromTicks(_deadline - Loop.ReadNow()))} left";

    protected override void OnCompleting()
    {
        if (_heapIndex != TimerQueue.NotScheduled)
        {
            Loop.RemoveTimer(this);
        }
    }

    protected override void OnResultTaken() => Loop.ReturnSleep(this);
}
