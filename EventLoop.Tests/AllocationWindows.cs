namespace EventLoop.Tests;

/// <summary>
/// Measures what the calling thread allocates over back-to-back windows of the same work and
/// keeps the quietest. An allocation per operation shows in every window; a rare one-off of the
/// runtime on this thread (a few hundred bytes, not the code under test) shows in one at most.
/// </summary>
internal static class AllocationWindows
{
    /// <summary>Runs <paramref name="window"/> <paramref name="windows"/> times; returns the fewest bytes one run allocated.</summary>
    public static long Quietest(int windows, Action window)
    {
        long quietest = long.MaxValue;
        for (int i = 0; i < windows; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            window();
            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return quietest;
    }
}
