namespace EventLoop.Coroutines;

/// <summary>A <see cref="Greenlet.Link"/> callback.</summary>
internal sealed class LinkListener(Action<Greenlet> callback) : IGreenletListener
{
    public void OnGreenletCompleted(Greenlet greenlet) => callback(greenlet);
}

/// <summary>
/// An <c>await greenlet</c> continuation: resumed through the context that was current when
/// the await began (the loop's, another one, or the thread pool), never inline on the loop
/// thread for a caller that is not on it.
/// </summary>
internal sealed class ContinuationListener(Action continuation, SynchronizationContext? context, ExecutionContext? executionContext)
    : IGreenletListener
{
    public void OnGreenletCompleted(Greenlet greenlet) => Resume(continuation, context, executionContext);

    /// <summary>
    /// Resumes an awaiter: through <paramref name="context"/> (a loop's context queues it as that
    /// context's greenlet's work), else on the thread pool, inside <paramref name="executionContext"/> when given.
    /// </summary>
    public static void Resume(Action continuation, SynchronizationContext? context, ExecutionContext? executionContext)
    {
        Action run = executionContext is null
            ? continuation
            : () => ExecutionContext.Run(executionContext, static s => ((Action)s!)(), continuation);
        if (context is LoopSynchronizationContext loopContext)
        {
            loopContext.Loop.Enqueue(run, null, loopContext.Owner);
        }
        else if (context is not null)
        {
            context.Post(static s => ((Action)s!)(), run);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s(), run, preferLocal: false);
        }
    }
}
