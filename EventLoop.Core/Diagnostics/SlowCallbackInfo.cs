namespace EventLoop;

/// <summary>A report that one callback or greenlet step held the loop longer than the threshold.</summary>
/// <param name="Duration">How long the callback ran.</param>
/// <param name="Greenlet">The greenlet whose step it was, or null for a plain callback.</param>
/// <param name="Callback">A description of the callback (its method), for the report.</param>
public readonly record struct SlowCallbackInfo(TimeSpan Duration, Greenlet? Greenlet, string Callback)
{
    /// <inheritdoc />
    public override string ToString() => GreenletDump.OneLine(Greenlet is null
        ? $"EventLoop: slow callback {Callback} held the loop for {Duration.TotalMilliseconds:F1} ms"
        : $"EventLoop: greenlet #{Greenlet.Id} '{Greenlet.Name}' held the loop for {Duration.TotalMilliseconds:F1} ms ({Callback})");
}
