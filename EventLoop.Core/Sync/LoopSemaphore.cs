using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A counting semaphore for greenlets, like gevent's <c>Semaphore</c>. <see cref="Release"/>
/// hands the permit straight to the oldest waiter (FIFO, no barging), so a waiter once served
/// keeps its permit even when its cancellation comes later. Loop-thread only; members throw
/// <see cref="InvalidOperationException"/> off the loop thread. <see cref="BoundedLoopSemaphore"/>
/// is the variant that refuses to grow past its initial count.
/// </summary>
public sealed class LoopSemaphore
{
    private readonly SemaphoreCore _core;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits and no upper bound.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="initialCount">Permits available at first; not negative.</param>
    public LoopSemaphore(Loop loop, int initialCount)
    {
        _core = new SemaphoreCore(loop, initialCount, int.MaxValue);
        _core.DescribeAs(this);
    }

    /// <summary>Permits available now (0 while greenlets wait).</summary>
    public int CurrentCount => _core.CurrentCount;

    /// <summary>Number of greenlets waiting for a permit.</summary>
    public int WaitingCount => _core.WaitingCount;

    internal int PooledWaiterCount => _core.PooledWaiterCount;

    /// <summary>Takes a permit if one is free, without waiting. Loop thread.</summary>
    /// <returns>True when a permit was taken (release it with <see cref="Release"/>).</returns>
    public bool TryAcquire() => _core.TryAcquire();

    /// <summary>
    /// Takes a permit, waiting in FIFO order while none is free. Allocation-free once warm when
    /// the token cannot be canceled. Use as <c>using (await sem.AcquireAsync()) { ... }</c>. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (no permit is taken then).</param>
    /// <returns>A releaser that gives the permit back when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    /// <exception cref="LoopTimeoutException">A <see cref="CancelScope"/> of the greenlet expired.</exception>
    public ValueTask<LoopReleaser> AcquireAsync(CancellationToken cancellationToken = default) => _core.AcquireAsync(null, cancellationToken);

    /// <summary>Like <see cref="AcquireAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time).</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A releaser that gives the permit back when disposed.</returns>
    /// <exception cref="LoopTimeoutException">No permit came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<LoopReleaser> AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.AcquireAsync(timeout, cancellationToken);

    /// <summary>
    /// Returns a permit: the oldest waiter gets it at once, else the count grows. Loop thread.
    /// </summary>
    public void Release() => _core.Release();
}
