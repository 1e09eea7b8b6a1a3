namespace EventLoop.Polling;

/// <summary>
/// A readiness back end. It only translates flags and makes system calls; every policy
/// (dispatch order, stale-event checks, timeouts) lives in <see cref="Loop"/>.
/// Loop-thread only.
/// </summary>
internal interface IPoller : IDisposable
{
    /// <summary>The concrete back end.</summary>
    PollerKind Kind { get; }

    /// <summary>A descriptor that becomes readable when events are pending (epoll's fd), or -1.</summary>
    int Handle { get; }

    /// <summary>
    /// True when <see cref="PollEvents.EdgeTriggered"/> registrations stay armed by themselves
    /// (epoll). False when a reported direction is disarmed until <see cref="Modify"/> re-arms it.
    /// </summary>
    bool NativeEdgeTriggered { get; }

    /// <summary>Starts watching <paramref name="fd"/>; ready events carry <paramref name="token"/>.</summary>
    void Add(int fd, PollEvents events, int token);

    /// <summary>Changes the interest of a watched descriptor (and re-arms edge-triggered directions).</summary>
    void Modify(int fd, PollEvents events, int token);

    /// <summary>Stops watching <paramref name="fd"/>. A descriptor that is already closed is not an error.</summary>
    void Remove(int fd);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> milliseconds (-1: forever, 0: do not block) and
    /// fills <paramref name="ready"/>; returns how many entries were written. EINTR is retried.
    /// </summary>
    int Poll(ReadyEvent[] ready, int timeoutMs);
}
