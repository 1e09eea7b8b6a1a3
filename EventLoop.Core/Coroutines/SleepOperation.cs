using System.Threading.Tasks.Sources;
using EventLoop.Timers;

namespace EventLoop.Coroutines;

/// <summary>
/// A pooled <see cref="Loop.Sleep"/> that is its own timer: one object per concurrent sleep, reused
/// after its result is taken, so a warm loop sleeps without allocating. Completes when the timer fires,
/// or with <see cref="OperationCanceledException"/> when the token is cancelled or the greenlet
/// is killed. A timer that fired in the timer phase beats a cancellation that came later.
/// </summary>
internal sealed class SleepOperation : LoopWait, IValueTaskSource, ITimerNode, ITokenCancellable
{
    private readonly Loop _loop;
    private LoopValueTaskSourceCore<bool> _core;
    private TokenRegistration _registration;
    private int _heapIndex = -1;
    private long _sequence;

    public SleepOperation(Loop loop)
    {
        _loop = loop;
    }

    int ITimerNode.HeapIndex
    {
        get => _heapIndex;
        set => _heapIndex = value;
    }

    /// <summary>Arms the sleep; returns the ValueTask to hand out.</summary>
    public ValueTask Start(TimeSpan delay, CancellationToken cancellationToken)
    {
        _core.Reset();
        short version = _core.Version;
        Exception? abort = AttachToCurrentGreenlet(_loop);
        if (abort is not null)
        {
            _loop.ReturnSleep(this);
            return ValueTask.FromException(abort);
        }

        if (delay != Timeout.InfiniteTimeSpan)
        {
            _loop.ScheduleTimer(this, delay);
        }

        _registration.Register(cancellationToken, this, version);

        return new ValueTask(this, version);
    }

    internal override void Abort(Exception error) => Complete(error);

    long ITimerNode.Sequence
    {
        get => _sequence;
        set => _sequence = value;
    }

    void ITimerNode.OnDue(Loop loop) => Complete(null);

    Loop ITokenCancellable.TokenLoop => _loop;

    void ITokenCancellable.CancelFromToken(short version, CancellationToken token)
    {
        if (version == _core.Version && !_core.IsCompleted)
        {
            Complete(new OperationCanceledException(token));
        }
    }

    private void Complete(Exception? error)
    {
        if (_core.IsCompleted)
        {
            return;
        }

        Detach();
        if (_heapIndex != TimerQueue.NotScheduled)
        {
            _loop.RemoveTimer(this);
        }

        _registration.Release();
        if (error is null)
        {
            _core.SetResult(_loop, true);
        }
        else
        {
            _core.SetException(_loop, error);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_loop, continuation, state, token, flags);

    public void GetResult(short token)
    {
        _core.TakeResult(token, out Exception? error);
        _core.Reset(); // invalidates the token before the object can be handed out again
        _loop.ReturnSleep(this);
        LoopValueTaskSourceCore<bool>.ThrowIfError(error);
    }
}
