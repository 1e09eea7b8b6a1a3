using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A counting semaphore for greenlets, like gevent's <c>Semaphore</c>. <see cref="Release"/>
/// hands the permit straight to the oldest waiter (FIFO, no barging), so a waiter once served
/// keeps its permit even when its cancellation comes later. Loop-thread only; members throw
/// <see cref="InvalidOperationException"/> off the loop thread.
/// </summary>
public class LoopSemaphore : ILoopReleasable
{
    private readonly Loop _loop;
    private readonly WaitQueue<LoopReleaser> _waiters;
    private readonly int _maxCount;
    private int _count;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits and no upper bound.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="initialCount">Permits available at first; not negative.</param>
    public LoopSemaphore(Loop loop, int initialCount)
        : this(loop, initialCount, int.MaxValue)
    {
    }

    private protected LoopSemaphore(Loop loop, int initialCount, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCount, maxCount);
        _loop = loop;
        _waiters = new WaitQueue<LoopReleaser>(loop);
        _count = initialCount;
        _maxCount = maxCount;
    }

    /// <summary>Permits available now (0 while greenlets wait).</summary>
    public int CurrentCount => _count;

    /// <summary>Number of greenlets waiting for a permit.</summary>
    public int WaitingCount => _waiters.Count;

    internal int PooledWaiterCount => _waiters.PooledCount;

    /// <summary>Takes a permit if one is free, without waiting. Loop thread.</summary>
    /// <returns>True when a permit was taken (release it with <see cref="Release"/>).</returns>
    public bool TryAcquire()
    {
        _loop.VerifyAccess(nameof(TryAcquire));
        if (_count > 0)
        {
            _count--;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Takes a permit, waiting in FIFO order while none is free. Allocation-free once warm when
    /// the token cannot be cancelled. Use as <c>using (await sem.AcquireAsync()) { ... }</c>. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (no permit is taken then).</param>
    /// <returns>A releaser that gives the permit back when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled or the greenlet killed.</exception>
    /// <exception cref="LoopTimeoutException">A <see cref="CancelScope"/> of the greenlet expired.</exception>
    public ValueTask<LoopReleaser> AcquireAsync(CancellationToken cancellationToken = default) => AcquireAsync(null, cancellationToken);

    /// <summary>Like <see cref="AcquireAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time).</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A releaser that gives the permit back when disposed.</returns>
    /// <exception cref="LoopTimeoutException">No permit came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<LoopReleaser> AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(AcquireAsync));
        if (_count > 0)
        {
            _count--;
            return new ValueTask<LoopReleaser>(new LoopReleaser(this));
        }

        return _waiters.WaitAsync(cancellationToken, timeout);
    }

    /// <summary>
    /// Returns a permit: the oldest waiter gets it at once, else the count grows. Loop thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">A bounded semaphore would exceed its bound.</exception>
    public void Release()
    {
        _loop.VerifyAccess(nameof(Release));
        if (_waiters.WakeFirst(new LoopReleaser(this)))
        {
            return;
        }

        if (_count >= _maxCount)
        {
            throw new InvalidOperationException($"The semaphore was released more times than acquired (bound {_maxCount}).");
        }

        _count++;
    }
}
