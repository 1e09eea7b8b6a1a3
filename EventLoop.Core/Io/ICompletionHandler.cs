namespace EventLoop;

/// <summary>
/// The driver side of a <see cref="CompletionRequest"/>: told, inside the loop's poll phase, the
/// result of each request that completed.
/// </summary>
/// <remarks>
/// Runs on the loop thread in the middle of an iteration, like
/// <see cref="IReadinessHandler.OnReady"/>: complete the driver's
/// <see cref="LoopWaitSource{TResult}"/> (which only queues the awaiting continuation), or submit
/// the rest of a short send. Run no user code and do not block; an exception thrown here goes to
/// the loop's unhandled-exception handler. A request ended by
/// <see cref="CompletionRequest.TryCancel"/> is not reported here, except the connections a
/// multishot accept made before the cancellation took effect: those are reported from inside
/// <see cref="CompletionRequest.TryCancel"/> (the request still in flight), so none is lost.
/// </remarks>
public interface ICompletionHandler
{
    /// <summary>The request completed; it is no longer in flight, so it may be submitted again from here.</summary>
    /// <param name="request">The request, the very object <see cref="CompletionIo.CreateRequest"/> returned.</param>
    /// <param name="result">The kernel's result: a byte count (0 for a receive at end of stream), or a negated errno.</param>
    void OnCompleted(CompletionRequest request, int result);
}
