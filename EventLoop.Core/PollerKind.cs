namespace EventLoop;

/// <summary>Which readiness back end a <see cref="Loop"/> uses.</summary>
public enum PollerKind
{
    /// <summary>
    /// The best back end for the platform: epoll on Linux, else poll(2). The environment
    /// variable <c>EVENTLOOP_POLLER=poll</c> (or <c>epoll</c>) overrides the choice.
    /// </summary>
    Auto = 0,

    /// <summary>Linux epoll (edge- and level-triggered registrations, one waitable descriptor).</summary>
    Epoll = 1,

    /// <summary>The portable poll(2) back end, available on every Unix.</summary>
    Poll = 2,
}
