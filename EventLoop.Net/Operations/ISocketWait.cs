namespace EventLoop.Net.Operations;

/// <summary>An operation parked on a <see cref="LoopSocket"/> direction, whatever its result type. Loop-thread only.</summary>
internal interface ISocketWait
{
    /// <summary>
    /// The direction became ready: retry the system call. Returns true when the operation is
    /// complete (with a result or an error); false when it hit EAGAIN and waits again.
    /// </summary>
    bool TryComplete();

    /// <summary>Fails the operation unless it already completed (the socket is closing).</summary>
    bool TrySetException(Exception error);
}
