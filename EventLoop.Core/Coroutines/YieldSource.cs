using System.Threading.Tasks.Sources;

namespace EventLoop.Coroutines;

/// <summary>
/// The stateless source behind <see cref="Loop.Yield"/> and <c>Sleep(TimeSpan.Zero)</c>: awaiting
/// it queues the continuation behind the work already ready, so it resumes on the next
/// iteration (gevent's <c>sleep(0)</c>). One instance per loop serves every await without
/// allocating. A greenlet killed while yielding throws when it resumes.
/// </summary>
internal sealed class YieldSource(Loop loop) : IValueTaskSource
{
    public ValueTask Create() => new(this, 0);

    public ValueTaskSourceStatus GetStatus(short token) => ValueTaskSourceStatus.Pending;

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        loop.CurrentGreenlet?.NoteLoopResume(state); // it resumes as that greenlet's item
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } ec)
        {
            EnqueueWithContext(loop, ec, continuation, state);
            return;
        }

        loop.Enqueue(continuation, state, loop.CurrentGreenlet);
    }

    // Kept out of OnCompleted: a lambda there would make the compiler allocate its closure on
    // every call, taken branch or not (the parameters it captures live in the closure).
    private static void EnqueueWithContext(Loop loop, ExecutionContext ec, Action<object?> continuation, object? state) =>
        loop.Enqueue(() => ExecutionContext.Run(ec, s => continuation(s), state), null, loop.CurrentGreenlet);

    public void GetResult(short token)
    {
        Exception? abort = loop.CurrentGreenlet?.PendingAbort();
        if (abort is not null)
        {
            throw abort;
        }
    }
}
