namespace EventLoop.Coroutines;

/// <summary>
/// An <c>await greenlet</c> by another greenlet of the same loop: a loop wait of the awaiting
/// greenlet, so its kill and its cancel scopes (<c>FailAfter</c>, <c>MoveOnAfter</c>) end the await,
/// as gevent's <c>join</c> is interrupted by a kill or a <c>Timeout</c>; and the awaited greenlet's
/// completion listener. Whichever comes first resumes the awaiter once; after an abort the
/// awaiter's <c>GetResult</c> throws the awaiting greenlet's pending abort (the awaited greenlet
/// has not finished). Loop-thread only.
/// </summary>
internal sealed class GreenletJoinWait : LoopWait, IGreenletListener
{
    private readonly Greenlet _awaited;
    private readonly LoopSynchronizationContext _awaiterContext;
    private readonly ExecutionContext? _executionContext;
    private Action? _continuation;

    public GreenletJoinWait(Greenlet awaited, LoopSynchronizationContext awaiterContext, Action continuation, ExecutionContext? executionContext)
        : base(awaited.Loop)
    {
        _awaited = awaited;
        _awaiterContext = awaiterContext;
        _continuation = continuation;
        _executionContext = executionContext;
    }

    /// <inheritdoc/>
    public override string Describe() => $"await {_awaited.Name} (#{_awaited.Id})";

    public void OnGreenletCompleted(Greenlet greenlet)
    {
        Detach();
        Resume();
    }

    internal override void Abort(Exception error)
    {
        // The awaiting greenlet was killed or its scope fired: stop listening, resume it now.
        _awaited.RemoveListener(this);
        Resume();
    }

    /// <summary>Resumes the awaiter once (queued with the awaiting greenlet as its owner).</summary>
    public void Resume()
    {
        Action? continuation = _continuation;
        if (continuation is null)
        {
            return;
        }

        _continuation = null;
        ContinuationListener.Resume(continuation, _awaiterContext, _executionContext);
    }
}
