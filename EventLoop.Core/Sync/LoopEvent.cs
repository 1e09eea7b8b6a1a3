using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A flag greenlets wait on, like gevent's <c>Event</c>: <see cref="Set"/> wakes every waiter
/// (oldest first) and lets later waits pass until <see cref="Clear"/>. Loop-thread only; every
/// member throws <see cref="InvalidOperationException"/> off the loop thread.
/// </summary>
public sealed class LoopEvent
{
    private readonly Loop _loop;
    private readonly WaitQueue<bool> _waiters;
    private bool _isSet;

    /// <summary>Creates an event on <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose greenlets use the event.</param>
    /// <param name="initialState">True to start set.</param>
    public LoopEvent(Loop loop, bool initialState = false)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
        _waiters = new WaitQueue<bool>(loop);
        _waiters.DescribeAs(this, "WaitAsync");
        _isSet = initialState;
    }

    /// <summary>True while the event is set.</summary>
    public bool IsSet => _isSet;

    internal int WaiterCount => _waiters.Count;

    internal int PooledWaiterCount => _waiters.PooledCount;

    /// <summary>Sets the event and wakes every waiter, oldest first. Idempotent. Loop thread.</summary>
    public void Set()
    {
        _loop.VerifyAccess(nameof(LoopEvent) + "." + nameof(Set));
        if (_isSet)
        {
            return;
        }

        _isSet = true;
        _waiters.WakeAll(true);
    }

    /// <summary>Resets the event; waiters already woken stay woken. Loop thread.</summary>
    public void Clear()
    {
        _loop.VerifyAccess(nameof(LoopEvent) + "." + nameof(Clear));
        _isSet = false;
    }

    /// <summary>
    /// Waits until the event is set; completes at once when it is. Allocation-free once warm
    /// when <paramref name="cancellationToken"/> cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when the event was set, false when the timeout passed first.</returns>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    /// <exception cref="LoopTimeoutException">A <see cref="CancelScope"/> of the greenlet expired.</exception>
    public ValueTask<bool> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(LoopEvent) + "." + nameof(WaitAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return _isSet ? new ValueTask<bool>(true) : _waiters.WaitAsync(cancellationToken, timeout, timeoutThrows: false, timeoutValue: false);
    }

    /// <summary>Waits until the event is set; see <see cref="WaitAsync(TimeSpan?, CancellationToken)"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True once the event was set.</returns>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => WaitAsync(null, cancellationToken);
}
