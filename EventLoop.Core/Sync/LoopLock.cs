using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A mutual-exclusion lock for greenlets, like gevent's <c>Lock</c> (not re-entrant, not owned:
/// any greenlet may release it). Waiters get the lock in FIFO order, handed over on release.
/// Loop-thread only; members throw <see cref="InvalidOperationException"/> off the loop thread.
/// </summary>
public sealed class LoopLock : ILoopReleasable
{
    private readonly Loop _loop;
    private readonly WaitQueue<LoopReleaser> _waiters;
    private bool _held;

    /// <summary>Creates an unlocked lock.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    public LoopLock(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
        _waiters = new WaitQueue<LoopReleaser>(loop);
        _waiters.DescribeAs(this, "AcquireAsync");
    }

    /// <summary>True while some greenlet holds the lock.</summary>
    public bool IsLocked => _held;

    /// <summary>Number of greenlets waiting for the lock.</summary>
    public int WaitingCount => _waiters.Count;

    /// <summary>Takes the lock if it is free, without waiting. Loop thread.</summary>
    /// <returns>True when the lock was taken.</returns>
    public bool TryAcquire()
    {
        _loop.VerifyAccess(nameof(LoopLock) + "." + nameof(TryAcquire));
        if (_held)
        {
            return false;
        }

        _held = true;
        return true;
    }

    /// <summary>
    /// Takes the lock, waiting in FIFO order while it is held. Use as
    /// <c>using (await lck.AcquireAsync()) { ... }</c>. Allocation-free once warm when the token
    /// cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A releaser that unlocks when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    /// <exception cref="LoopTimeoutException">A <see cref="CancelScope"/> of the greenlet expired.</exception>
    public ValueTask<LoopReleaser> AcquireAsync(CancellationToken cancellationToken = default) => AcquireAsync(null, cancellationToken);

    /// <summary>Like <see cref="AcquireAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time); the lock is not taken then.</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A releaser that unlocks when disposed.</returns>
    /// <exception cref="LoopTimeoutException">The lock was not free within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<LoopReleaser> AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(LoopLock) + "." + nameof(AcquireAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LoopReleaser>(cancellationToken);
        }

        if (!_held)
        {
            _held = true;
            return new ValueTask<LoopReleaser>(new LoopReleaser(this));
        }

        return _waiters.WaitAsync(cancellationToken, timeout);
    }

    /// <summary>Unlocks: the oldest waiter gets the lock at once, else it becomes free. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">The lock is not held.</exception>
    public void Release()
    {
        _loop.VerifyAccess(nameof(LoopLock) + "." + nameof(Release));
        if (!_held)
        {
            throw new InvalidOperationException("The lock is not held.");
        }

        if (!_waiters.WakeFirst(new LoopReleaser(this)))
        {
            _held = false;
        }
    }
}
