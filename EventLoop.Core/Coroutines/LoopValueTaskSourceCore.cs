using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using EventLoop.Internal;

namespace EventLoop.Coroutines;

/// <summary>
/// The state machine behind a pooled loop <see cref="IValueTaskSource{TResult}"/> (sleep, socket
/// receive and send, queue waits). Unlike <see cref="ManualResetValueTaskSourceCore{TResult}"/>, it
/// schedules the continuation straight into the loop's run queue, attributed to the greenlet that
/// awaited, without allocating. The version token catches a second await of the same ValueTask.
/// Loop-thread only.
/// </summary>
/// <typeparam name="TResult">The result type.</typeparam>
internal struct LoopValueTaskSourceCore<TResult>
{
    private Action<object?>? _continuation;
    private object? _continuationState;
    private Greenlet? _owner;
    // What the continuation must run under, rare for a loop wait: null, the ExecutionContext to
    // flow, the foreign SynchronizationContext to post to, or a ForeignResume with both.
    private object? _resumeContext;
    private TResult? _result;
    private Exception? _error;
    private bool _completed;
    private bool _pending; // beside _completed: fits the padding, the owner stays its size
    private short _version;

    public readonly short Version => _version;

    public readonly bool IsCompleted => _completed;

    /// <summary>True while the owner's wait is started and not completed (kept here for the owner).</summary>
    public bool IsPending
    {
        readonly get => _pending;
        set => _pending = value;
    }

    /// <summary>Starts a new operation; invalidates tokens of the previous one.</summary>
    public void Reset()
    {
        _version++;
        _completed = false;
        _pending = false;
        _result = default;
        _error = null;
        _continuation = null;
        _continuationState = null;
        _owner = null;
        _resumeContext = null;
    }

    public readonly ValueTaskSourceStatus GetStatus(short token)
    {
        ValidateToken(token);
        return !_completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    /// <summary>Takes the outcome without throwing; the caller recycles the source, then throws.</summary>
    public readonly TResult? TakeResult(short token, out Exception? error)
    {
        ValidateToken(token);
        if (!_completed)
        {
            ThrowHelper.ThrowInvalidOperation("The operation has not completed yet.");
        }

        error = _error;
        return _result;
    }

    public void OnCompleted(Loop loop, Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ValidateToken(token);
        if (_continuation is not null)
        {
            ThrowHelper.ThrowInvalidOperation("The operation is already being awaited.");
        }

        _owner = loop.CurrentGreenlet;
        SynchronizationContext? foreign = null;
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            SynchronizationContext? context = SynchronizationContext.Current;
            if (context is not null && context is not LoopSynchronizationContext)
            {
                foreign = context;
            }
        }

        ExecutionContext? flow = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ? ExecutionContext.Capture() : null;
        _resumeContext = foreign is null ? flow : flow is null ? foreign : new ForeignResume(flow, foreign);
        _continuation = continuation;
        _continuationState = state;
        if (foreign is null)
        {
            _owner?.NoteLoopResume(state); // it resumes as the owner's item
        }

        if (_completed)
        {
            Schedule(loop);
        }
    }

    public void SetResult(Loop loop, TResult result)
    {
        _result = result;
        Signal(loop);
    }

    public void SetException(Loop loop, Exception error)
    {
        _error = error;
        Signal(loop);
    }

    /// <summary>Rethrows <paramref name="error"/> with its original stack, if any.</summary>
    public static void ThrowIfError(Exception? error)
    {
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private void Signal(Loop loop)
    {
        if (_completed)
        {
            ThrowHelper.ThrowInvalidOperation("The operation was already completed.");
        }

        _completed = true;
        if (_continuation is not null)
        {
            Schedule(loop);
        }
    }

    private readonly void Schedule(Loop loop)
    {
        Action<object?> continuation = _continuation!;
        object? state = _continuationState;
        if (_resumeContext is not null)
        {
            ScheduleSlow(loop, continuation, state, _resumeContext, _owner);
            return;
        }

        loop.Enqueue(continuation, state, _owner);
    }

    private static void ScheduleSlow(Loop loop, Action<object?> continuation, object? state, object resumeContext, Greenlet? owner)
    {
        (ExecutionContext? ec, SynchronizationContext? foreign) = resumeContext switch
        {
            ExecutionContext flow => (flow, null),
            SynchronizationContext context => ((ExecutionContext?)null, context),
            _ => ((ForeignResume)resumeContext).Contexts,
        };
        Action run = ec is null
            ? () => continuation(state)
            : () => ExecutionContext.Run(ec, s => continuation(s), state);
        if (foreign is not null)
        {
            foreign.Post(static s => ((Action)s!)(), run);
        }
        else
        {
            loop.Enqueue(run, null, owner);
        }
    }

    private readonly void ValidateToken(short token)
    {
        if (token != _version)
        {
            ThrowHelper.ThrowStaleToken();
        }
    }

    /// <summary>Both contexts of a continuation, in the rare case that it has both.</summary>
    private sealed class ForeignResume(ExecutionContext flow, SynchronizationContext foreign)
    {
        public (ExecutionContext? Flow, SynchronizationContext? Foreign) Contexts { get; } = (flow, foreign);
    }
}
