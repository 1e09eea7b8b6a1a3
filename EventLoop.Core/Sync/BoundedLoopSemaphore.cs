using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A semaphore whose count may never exceed its initial value, like gevent's
/// <c>BoundedSemaphore</c>: a <see cref="Release"/> past the bound throws, which catches a release
/// without a matching acquire. Otherwise it behaves as <see cref="LoopSemaphore"/>. Loop-thread only.
/// </summary>
public sealed class BoundedLoopSemaphore
{
    private readonly SemaphoreCore _core;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits, which is also its bound.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="initialCount">Permits available at first, and the most there can be.</param>
    public BoundedLoopSemaphore(Loop loop, int initialCount)
    {
        _core = new SemaphoreCore(loop, initialCount, initialCount);
        _core.DescribeAs(this);
        MaxCount = initialCount;
    }

    /// <summary>The bound: the initial count.</summary>
    public int MaxCount { get; }

    /// <inheritdoc cref="LoopSemaphore.CurrentCount"/>
    public int CurrentCount => _core.CurrentCount;

    /// <inheritdoc cref="LoopSemaphore.WaitingCount"/>
    public int WaitingCount => _core.WaitingCount;

    /// <inheritdoc cref="LoopSemaphore.TryAcquire"/>
    public bool TryAcquire() => _core.TryAcquire();

    /// <inheritdoc cref="LoopSemaphore.AcquireAsync(CancellationToken)"/>
    public ValueTask<LoopReleaser> AcquireAsync(CancellationToken cancellationToken = default) => _core.AcquireAsync(null, cancellationToken);

    /// <inheritdoc cref="LoopSemaphore.AcquireAsync(TimeSpan?, CancellationToken)"/>
    public ValueTask<LoopReleaser> AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.AcquireAsync(timeout, cancellationToken);

    /// <summary>Returns a permit: the oldest waiter gets it at once, else the count grows. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">The count would exceed <see cref="MaxCount"/>.</exception>
    public void Release() => _core.Release();
}
