namespace EventLoop;

/// <summary>
/// A report of the blocked-loop watchdog (<see cref="LoopOptions.BlockedLoopThreshold"/>): one
/// callback or greenlet step has held the loop longer than the threshold. Sent once while the
/// loop is still held (<see cref="Released"/> false, <see cref="Duration"/> so far) and once when
/// it lets go (<see cref="Released"/> true, the total).
/// </summary>
/// <param name="Loop">The loop that is held.</param>
/// <param name="Greenlet">The greenlet whose step holds it, or null for a plain callback.</param>
/// <param name="Callback">The callback (for a greenlet step, its async method's state machine).</param>
/// <param name="Duration">
/// How long the loop has been held: while held, at least this long; when released, the total.
/// The monitor samples the loop, so both are accurate to its sampling period
/// (a fifth of the threshold, at most 50 ms).
/// </param>
/// <param name="Released">False while the loop is still held; true in the report sent when it let go.</param>
public sealed record BlockedLoopInfo(Loop Loop, Greenlet? Greenlet, string Callback, TimeSpan Duration, bool Released)
{
    /// <inheritdoc />
    public override string ToString()
    {
        string who = Greenlet is null
            ? $"callback {Callback}"
            : $"greenlet #{Greenlet.Id} '{Greenlet.Name}' ({Callback})";
        return GreenletDump.OneLine(Released
            ? $"EventLoop: loop '{Loop.Name}' released after {Duration.TotalMilliseconds:F0} ms by {who}"
            : $"EventLoop: loop '{Loop.Name}' BLOCKED for {Duration.TotalMilliseconds:F0} ms so far by {who}");
    }
}
