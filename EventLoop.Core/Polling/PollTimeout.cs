using System.Diagnostics;

namespace EventLoop.Polling;

/// <summary>Timeout arithmetic shared by the back ends when a wait is interrupted (EINTR).</summary>
internal static class PollTimeout
{
    /// <summary>
    /// The milliseconds left of <paramref name="timeoutMs"/> since <paramref name="startTimestamp"/>
    /// (a <see cref="Stopwatch.GetTimestamp"/> value). Infinite (-1) and zero stay as they are, so
    /// a signal storm can neither turn a bounded wait into a longer one nor a blocking one into a spin.
    /// </summary>
    internal static int Remaining(int timeoutMs, long startTimestamp)
    {
        if (timeoutMs <= 0)
        {
            return timeoutMs;
        }

        double elapsed = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
        return elapsed >= timeoutMs ? 0 : (int)Math.Ceiling(timeoutMs - elapsed);
    }
}
