namespace EventLoop;

/// <summary>
/// A <see cref="CancellationTokenSource"/> cancelled by a loop timer (so virtual time applies),
/// from <see cref="Loop.CreateTimeoutSource"/>. Dispose it when the guarded work is over: that
/// cancels the timer; cancellation callbacks run on the loop thread.
/// </summary>
public sealed class LoopTimeoutSource : CancellationTokenSource
{
    private readonly Loop _loop;
    private TimerHandle? _timer;

    internal LoopTimeoutSource(Loop loop, TimeSpan delay)
    {
        _loop = loop;
        _timer = loop.CallLater(delay, Fire);
    }

    /// <summary>True once the deadline passed and the source was cancelled by it.</summary>
    public bool TimedOut { get; private set; }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _timer is { } timer)
        {
            _timer = null;
            if (_loop.IsOwnerThread)
            {
                timer.Cancel();
            }
            else if (!_loop.IsDisposed)
            {
                _loop.Post(timer.Cancel);
            }
        }

        base.Dispose(disposing);
    }

    private void Fire()
    {
        if (_timer is null)
        {
            return;
        }

        _timer = null;
        TimedOut = true;
        Cancel();
    }
}
