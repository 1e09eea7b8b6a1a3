namespace EventLoop.Io;

/// <summary>
/// An entry of the loop's registration table: a public <see cref="IoRegistration"/> or a
/// <see cref="ReadinessWatch"/>. <see cref="OnReady"/> runs inside the poll phase.
/// </summary>
internal interface IPollTarget
{
    /// <summary>Readiness reported by the poller; errors and hang-ups arrive as Read | Write.</summary>
    void OnReady(IoEvents events);

    /// <summary>The loop is being disposed: release the descriptor, fail pending waits.</summary>
    void OnLoopDisposed();

    /// <summary>
    /// Releases the entry when it is for <paramref name="fd"/> and its handle was closed without
    /// releasing it (the number now belongs to a new descriptor); true if it did.
    /// </summary>
    bool ReleaseIfClosed(int fd);
}
