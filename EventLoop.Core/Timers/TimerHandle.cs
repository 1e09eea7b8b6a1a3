using EventLoop.Timers;

namespace EventLoop;

/// <summary>
/// A callback scheduled with <see cref="Loop.CallLater"/>. Cancelling it before it runs
/// guarantees it never runs, even when it was already due in the current iteration.
/// Loop-thread only.
/// </summary>
public sealed class TimerHandle : ITimerNode
{
    private readonly Loop _loop;
    private bool _cancelled;

    internal TimerHandle(Loop loop)
    {
        _loop = loop;
    }

    /// <summary>True once <see cref="Cancel"/> was called.</summary>
    public bool IsCancelled => _cancelled;

    /// <summary>The loop time (since the loop was created) at which the callback becomes due.</summary>
    public TimeSpan When => TimeSpan.FromTicks(Deadline);

    // Loop ticks (100 ns) at which the timer is due (the heap keeps its own copy for ordering).
    internal long Deadline;
    internal long Sequence;
    internal int HeapIndex = -1;

    // Delegate as accepted by ReadyItem; Direct timers complete loop-internal waits inside the
    // timer phase (they run no user code), the others are queued to run with the other callbacks.
    internal object? Callback;
    internal object? State;
    internal Greenlet? Owner;
    internal bool Direct;

    int ITimerNode.HeapIndex
    {
        get => HeapIndex;
        set => HeapIndex = value;
    }

    long ITimerNode.Sequence
    {
        get => Sequence;
        set => Sequence = value;
    }

    void ITimerNode.OnDue(Loop loop)
    {
        if (Direct)
        {
            ((Action<object?>)Callback!)(State);
        }
        else
        {
            loop.QueueTimerCallback(this);
        }
    }

    /// <summary>Prevents the callback from running; idempotent. Loop thread (or while no thread runs the loop).</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Cancel()
    {
        if (_cancelled)
        {
            return;
        }

        // The timer queue is loop state: a cancel racing the loop thread would corrupt it silently.
        _loop.VerifyThread(nameof(TimerHandle) + "." + nameof(Cancel));
        _cancelled = true;
        if (HeapIndex != TimerQueue.NotScheduled)
        {
            _loop.RemoveTimer(this);
        }
    }

    // Pooled internal timers (Sleep) re-arm the same handle; user handles are never reused.
    internal void Reset()
    {
        _cancelled = false;
    }
}
