namespace EventLoop.Timers;

/// <summary>
/// An <see cref="ITimer"/> backed by a loop timer, handed out by the loop's virtual clock.
/// <see cref="Change"/> and <see cref="Dispose"/> may be called from any thread (CancellationTokenSource
/// and Task.Delay do); the callback always runs on the loop thread.
/// </summary>
internal sealed class LoopTimer : ITimer
{
    private readonly Loop _loop;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private TimerHandle? _handle;
    private TimeSpan _period;
    private bool _disposed;

    public LoopTimer(Loop loop, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _loop = loop;
        _callback = callback;
        _state = state;
        Change(dueTime, period);
    }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        if (_disposed)
        {
            return false;
        }

        if (_loop.IsOwnerThread)
        {
            Apply(dueTime, period);
        }
        else
        {
            _loop.Post(() => Apply(dueTime, period));
        }

        return true;
    }

    public void Dispose()
    {
        _disposed = true;
        if (_loop.IsOwnerThread)
        {
            CancelHandle();
        }
        else
        {
            _loop.Post(CancelHandle);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void CancelHandle()
    {
        _handle?.Cancel();
        _handle = null;
    }

    private void Apply(TimeSpan dueTime, TimeSpan period)
    {
        CancelHandle();
        if (_disposed || _loop.IsDisposed || dueTime == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        _period = period;
        _handle = _loop.CallLater(dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime, Fire);
    }

    private void Fire()
    {
        _handle = null;
        if (_disposed)
        {
            return;
        }

        if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
        {
            _handle = _loop.CallLater(_period, Fire);
        }

        _callback(_state);
    }
}
