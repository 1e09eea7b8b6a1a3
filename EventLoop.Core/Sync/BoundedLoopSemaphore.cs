namespace EventLoop;

/// <summary>
/// A <see cref="LoopSemaphore"/> whose count may never exceed its initial value, like gevent's
/// <c>BoundedSemaphore</c>: a <see cref="LoopSemaphore.Release"/> past the bound throws, which
/// catches a release without a matching acquire. Loop-thread only.
/// </summary>
public sealed class BoundedLoopSemaphore : LoopSemaphore
{
    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits, which is also its bound.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="initialCount">Permits available at first, and the most there can be.</param>
    public BoundedLoopSemaphore(Loop loop, int initialCount)
        : base(loop, initialCount, initialCount)
    {
        MaxCount = initialCount;
    }

    /// <summary>The bound: the initial count.</summary>
    public int MaxCount { get; }
}
