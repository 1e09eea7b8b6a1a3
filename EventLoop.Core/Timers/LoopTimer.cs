namespace EventLoop.Timers;

/// <summary>
/// An <see cref="ITimer"/> backed by a loop timer, handed out by <see cref="Loop.Time"/> (the
/// <see cref="LoopClock"/> or the <see cref="VirtualClock"/>). <see cref="Change"/> and
/// <see cref="Dispose"/> may be called from any thread (CancellationTokenSource and Task.Delay
/// do); the callback always runs on the loop thread, in the <see cref="ExecutionContext"/> of the
/// code that created the timer unless that code suppressed its flow, as a
/// <see cref="System.Threading.Timer"/>'s does. Once the loop is disposed the timer never
/// fires and <see cref="Change"/> returns false, as a disposed .NET timer does. Arguments are
/// checked as <see cref="System.Threading.Timer"/> checks them, and the last <see cref="Change"/>
/// wins even when an earlier one, made on another thread, reaches the loop after it.
/// </summary>
internal sealed class LoopTimer : ITimer
{
    // System.Threading.Timer's bound: whole milliseconds up to 0xFFFFFFFE (-1 disables).
    private const long MaxSupportedTimeoutMs = 0xFFFFFFFE;

    private readonly Loop _loop;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly ExecutionContext? _context; // the creator's, as System.Threading.Timer flows it; null when flow was suppressed
    private TimerHandle? _handle;
    private TimeSpan _period;
    private int _version; // bumped by each Change: a posted Change that a later one overtook is dropped
    private bool _disposed;

    public LoopTimer(Loop loop, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _loop = loop;
        _callback = callback;
        _state = state;
        _context = ExecutionContext.Capture();
        Change(dueTime, period);
    }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        CheckRange(dueTime, nameof(dueTime));
        CheckRange(period, nameof(period));
        if (_disposed || _loop.IsDisposed)
        {
            return false;
        }

        int version = Interlocked.Increment(ref _version);
        return _loop.TryRunHere(static s => s.Timer.Apply(s.DueTime, s.Period, s.Version), (Timer: this, DueTime: dueTime, Period: period, Version: version))
            || TryPost(() => Apply(dueTime, period, version));
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

    private static void CheckRange(TimeSpan time, string paramName)
    {
        long ms = (long)time.TotalMilliseconds;
        if (ms < -1 || ms > MaxSupportedTimeoutMs)
        {
            throw new ArgumentOutOfRangeException(paramName, time, "The time must be between -1 (infinite) and 4294967294 milliseconds.");
        }
    }

    private void Apply(TimeSpan dueTime, TimeSpan period, int version)
    {
        if (version != Volatile.Read(ref _version))
        {
            return; // a later Change supersedes this one (it was applied, or is on its way)
        }

        CancelHandle();
        if (_disposed || _loop.IsDisposed || (long)dueTime.TotalMilliseconds == -1)
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

        if (_period > TimeSpan.Zero)
        {
            _handle = _loop.CallLater(_period, Fire);
        }

        if (_context is null)
        {
            InvokeCallback();
        }
        else
        {
            ExecutionContext.Run(_context, static t => ((LoopTimer)t!).InvokeCallback(), this);
        }
    }

    private void InvokeCallback() => _callback(_state);
}
