namespace EventLoop.Sync;

/// <summary>
/// The counting semaphore behind <see cref="LoopSemaphore"/> and <see cref="BoundedLoopSemaphore"/>:
/// a permit count, an optional bound, and a FIFO of waiters that a release serves directly (no
/// barging). Loop-thread only; members verify the thread.
/// </summary>
internal sealed class SemaphoreCore : ILoopReleasable
{
    private readonly Loop _loop;
    private readonly WaitQueue<LoopReleaser> _waiters;
    private readonly int _maxCount;
    private int _count;

    public SemaphoreCore(Loop loop, int initialCount, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCount, maxCount);
        _loop = loop;
        _waiters = new WaitQueue<LoopReleaser>(loop);
        _count = initialCount;
        _maxCount = maxCount;
    }

    /// <summary>Names the public semaphore a dump shows for its waiters (<c>LoopSemaphore.AcquireAsync</c>).</summary>
    public void DescribeAs(object owner) => _waiters.DescribeAs(owner, "AcquireAsync");

    public int CurrentCount => _count;

    public int WaitingCount => _waiters.Count;

    public int PooledWaiterCount => _waiters.PooledCount;

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

    public ValueTask<LoopReleaser> AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        _loop.VerifyAccess(nameof(AcquireAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LoopReleaser>(cancellationToken);
        }

        if (_count > 0)
        {
            _count--;
            return new ValueTask<LoopReleaser>(new LoopReleaser(this));
        }

        return _waiters.WaitAsync(cancellationToken, timeout);
    }

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
