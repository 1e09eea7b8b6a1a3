namespace EventLoop;

/// <summary>
/// Readiness a descriptor registration is interested in, or that the loop reports to it.
/// Errors and hang-ups are reported as <see cref="Read"/> | <see cref="Write"/>, so the
/// callback's own read or write observes them, as with Python's <c>selectors</c>.
/// </summary>
[Flags]
public enum IoEvents
{
    /// <summary>No interest; the descriptor stays registered but is not reported.</summary>
    None = 0,

    /// <summary>The descriptor is readable (data, an incoming connection, end of stream, or an error).</summary>
    Read = 1,

    /// <summary>The descriptor is writable (buffer space, a completed connect, or an error).</summary>
    Write = 2,
}
