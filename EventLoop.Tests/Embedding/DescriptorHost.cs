using System.Diagnostics;

namespace EventLoop.Tests.Embedding;

/// <summary>
/// A host main loop that knows the loop by <see cref="Loop.BackendDescriptor"/> alone: it waits
/// for that descriptor with poll(2) (never asking <see cref="Loop.GetPollTimeout"/>) and runs
/// <c>RunOnce(TimeSpan.Zero)</c> each time it is readable.
/// </summary>
internal sealed class DescriptorHost(Loop loop)
{
    // Liveness only: a passing host returns in milliseconds; this is reached only by a failing one.
    private static readonly TimeSpan s_giveUp = TimeSpan.FromSeconds(10);

    /// <summary>How many times the descriptor was readable and the host ran an iteration.</summary>
    public int WakeUps { get; private set; }

    /// <summary>Waits and runs until <paramref name="done"/>; false when the host gave up waiting.</summary>
    public bool RunUntil(Func<bool> done)
    {
        int fd = loop.BackendDescriptor;
        Assert.True(fd >= 0);
        var elapsed = Stopwatch.StartNew();
        while (!done())
        {
            int remainingMs = (int)(s_giveUp - elapsed.Elapsed).TotalMilliseconds;
            if (remainingMs <= 0 || !HostPoll.IsReadable(fd, remainingMs))
            {
                return false;
            }

            WakeUps++;
            loop.RunOnce(TimeSpan.Zero);
        }

        return true;
    }
}
