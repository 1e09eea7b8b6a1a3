namespace EventLoop.Tests.Sync;

/// <summary>Virtual-time loops for the coordination tests: no test depends on wall-clock speed.</summary>
internal static class SyncTestLoop
{
    public static Loop Create() => new(new LoopOptions { VirtualTime = true });

    /// <summary>Lets every greenlet that is ready run (a few loop iterations).</summary>
    public static async Task Settle(this Loop loop, int rounds = 5)
    {
        for (int i = 0; i < rounds; i++)
        {
            await loop.Yield();
        }
    }
}
