namespace EventLoop.Polling;

/// <summary>
/// A descriptor other threads use to interrupt a blocked poll: eventfd with epoll, a
/// non-blocking pipe with poll(2). The loop registers <see cref="Fd"/> like any other descriptor.
/// </summary>
internal interface IWaker : IDisposable
{
    /// <summary>The descriptor to watch for readability.</summary>
    int Fd { get; }

    /// <summary>Makes <see cref="Fd"/> readable. Any thread; never blocks, never throws on a full buffer.</summary>
    void Wake();

    /// <summary>Consumes pending wake-ups so <see cref="Fd"/> is no longer readable. Loop thread.</summary>
    void Drain();
}
