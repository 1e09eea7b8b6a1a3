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
    private ExecutionContext? _executionContext;
    private SynchronizationContext? _foreignContext;
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
        _executionContext = null;
        _foreignContext = null;
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
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            SynchronizationContext? context = SynchronizationContext.Current;
            if (context is not null && context is not LoopSynchronizationContext)
            {
                _foreignContext = context;
            }
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
        {
            _executionContext = ExecutionContext.Capture();
        }

        _continuation = continuation;
        _continuationState = state;
        if (_foreignContext is null)
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
        if (_executionContext is not null || _foreignContext is not null)
        {
            ScheduleSlow(loop, continuation, state, _executionContext, _foreignContext, _owner);
            return;
        }

        loop.Enqueue(continuation, state, _owner);
    }

    private static void ScheduleSlow(Loop loop, Action<object?> continuation, object? state, ExecutionContext? ec, SynchronizationContext? foreign, Greenlet? owner)
    {
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
}
