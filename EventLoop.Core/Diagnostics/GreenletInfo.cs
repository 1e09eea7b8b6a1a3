namespace EventLoop;

/// <summary>One greenlet in a <see cref="Loop.GetGreenlets"/> snapshot.</summary>
/// <param name="Id">The greenlet's <see cref="Greenlet.Id"/>.</param>
/// <param name="Name">Its <see cref="Greenlet.Name"/>.</param>
/// <param name="ParentId">The greenlet that spawned it, or null when it was spawned outside a greenlet.</param>
/// <param name="State">Where it is in its life.</param>
/// <param name="Age">Loop time since it was spawned.</param>
/// <param name="WaitingOn">
/// What it is suspended in, in plain words (<c>Sleep, 1.2 s left</c>, <c>LoopQueue&lt;Job&gt;.GetAsync</c>,
/// <c>Receive on 127.0.0.1:6379</c>, with <c>; FailAfter 0.5 s left</c> when a deadline scope is
/// active), or null while it runs.
/// </param>
public sealed record GreenletInfo(long Id, string Name, long? ParentId, GreenletState State, TimeSpan Age, string? WaitingOn)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"#{Id} '{Name}' {State.ToString().ToLowerInvariant()}, age {GreenletDump.FormatSpan(Age)}" +
        (WaitingOn is null ? string.Empty : $", waiting on {WaitingOn}");
}
