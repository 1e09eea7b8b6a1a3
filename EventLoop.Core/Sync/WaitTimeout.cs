using EventLoop.Internal;

namespace EventLoop.Sync;

/// <summary>The per-call <c>timeout</c> argument every wait of the coordination primitives shares.</summary>
internal static class WaitTimeout
{
    /// <summary>
    /// Null and <see cref="Timeout.InfiniteTimeSpan"/> wait for ever, zero never waits; any other
    /// negative value throws. Each timed call checks first, before its fast path, so bad input
    /// fails the same whether or not the call would have waited.
    /// </summary>
    public static void Validate(TimeSpan? timeout)
    {
        if (timeout is { } t && t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
        {
            ThrowHelper.ThrowNegativeDelay(nameof(timeout), t);
        }
    }
}
