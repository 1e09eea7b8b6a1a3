namespace EventLoop;

/// <summary>
/// Obsolete: <c>new CancellationTokenSource(delay, loop.Time)</c> is canceled by a loop timer
/// in both clock modes. A <see cref="CancellationTokenSource"/> canceled by a loop timer, from
/// <see cref="Loop.CreateTimeoutSource"/>.
/// </summary>
[Obsolete("Use new CancellationTokenSource(delay, loop.Time); this type goes in the next release.")]
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
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
            if (!_loop.TryRunHere(static t => t.Cancel(), timer) && !_loop.IsDisposed)
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
