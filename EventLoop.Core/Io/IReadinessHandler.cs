namespace EventLoop;

/// <summary>
/// The driver side of a <see cref="ReadinessWatch"/>: told, inside the loop's poll phase, which
/// directions of its descriptor became ready. See <see cref="ReadinessWatch"/> for the trigger mode.
/// </summary>
/// <remarks>
/// Both methods run on the loop thread in the middle of an iteration, like libuv's poll
/// callbacks but with a stricter rule: record the readiness, make the non-blocking system call
/// a waiting operation needs and complete its <see cref="LoopWaitSource{TResult}"/> (which only
/// queues the awaiting continuation). Run no user code and do not block; an exception thrown
/// here goes to the loop's unhandled-exception handler.
/// </remarks>
public interface IReadinessHandler
{
    /// <summary>Directions of <paramref name="watch"/>'s descriptor that became ready. Errors and hang-ups arrive as Read | Write.</summary>
    /// <param name="watch">The watch that reported, the very object <see cref="Loop.Watch"/> returned.</param>
    /// <param name="events">The ready directions; may include one that is not armed (an error or a hang-up).</param>
    void OnReady(ReadinessWatch watch, IoEvents events);

    /// <summary>
    /// The loop is being disposed: fail the pending waits (for example with
    /// <see cref="ObjectDisposedException"/>) and release the descriptor. The watch is disposed
    /// right after this returns.
    /// </summary>
    /// <param name="watch">The watch being released.</param>
    void OnLoopDisposed(ReadinessWatch watch);
}
