namespace EventLoop.Timers;

/// <summary>
/// An <see cref="ITimer"/> backed by a loop timer, handed out by <see cref="Loop.Time"/> (the
/// <see cref="LoopClock"/> or the <see cref="VirtualClock"/>). <see cref="Change"/> and
/// <see cref="Dispose"/> may be called from any thread (CancellationTokenSource and Task.Delay
/// do); the callback always runs on the loop thread. Once the loop is disposed the timer never
/// fires and <see cref="Change"/> returns false, as a disposed .NET timer does.
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
        if (_disposed || _loop.IsDisposed)
        {
            return false;
        }

        return _loop.TryRunHere(static s => s.Timer.Apply(s.DueTime, s.Period), (Timer: this, DueTime: dueTime, Period: period))
            || TryPost(() => Apply(dueTime, period));
    }

    public void Dispose()
    {
        _disposed = true;
        if (!_loop.TryRunHere(static t => t.CancelHandle(), this))
        {
            TryPost(CancelHandle);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private bool TryPost(Action action)
    {
        try
        {
            _loop.Post(action);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false; // the loop went away: its timers are gone with it
        }
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
