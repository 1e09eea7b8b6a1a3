using EventLoop.Coroutines;

namespace EventLoop.Net.Operations;

/// <summary>
/// An operation parked on a <see cref="LoopSocket"/> direction. Being a <see cref="LoopWait"/>, it
/// is linked to the greenlet that awaits it, so killing that greenlet aborts it. Loop-thread only.
/// </summary>
internal abstract class SocketWait : LoopWait
{
    /// <summary>
    /// The direction became ready: retry the system call. Returns true when the operation is
    /// complete (with a result or an error); false when it hit EAGAIN and waits again.
    /// </summary>
    internal abstract bool TryComplete();
}
