using System.Threading.Tasks.Sources;
using EventLoop.Coroutines;
using EventLoop.Internal;

namespace EventLoop.Sync;

/// <summary>
/// One suspended wait on a coordination primitive: a node of its <see cref="WaitQueue{T}"/>'s
/// intrusive FIFO list, a <see cref="LoopWait"/> linked to the waiting greenlet (so a kill or a
/// cancel scope aborts it) and a pooled <see cref="IValueTaskSource{TResult}"/>. Loop-thread only.
/// </summary>
/// <remarks>
/// A waiter leaves its list the moment it completes, whichever way: handed a value by the
/// primitive, cancelled by its token, aborted, or timed out. Only the first completion counts,
/// so a value handed over beats a cancellation that arrives later: the primitive never has to
/// take anything back, and nothing is lost. The node returns to its queue's pool in GetResult.
/// </remarks>
/// <typeparam name="T">The value the wait produces.</typeparam>
internal sealed class Waiter<T> : LoopWait, IValueTaskSource<T>, IValueTaskSource, ITokenCancellable
{
    private static readonly Action<object?> s_onTimer = static s => ((Waiter<T>)s!).OnTimeout();
    private readonly WaitQueue<T> _queue;
    private LoopValueTaskSourceCore<T> _core;
    private TokenRegistration _registration;
    private TimerHandle? _timer;
    private bool _timeoutThrows;
    private T? _timeoutValue;

    // Links in the queue's FIFO list; unlinked while the node is free.
    internal IntrusiveLinks<Waiter<T>> QueueLinks;

    /// <summary>What a putter carries (queue puts), handed over when it is served.</summary>
    internal T? Item;

    /// <summary>Primitive-specific tag (e.g. a join's raiseError flag).</summary>
    internal object? State;

    public Waiter(WaitQueue<T> queue) => _queue = queue;

    /// <summary>The waiter queued after this one, or null.</summary>
    internal Waiter<T>? Next => _queue.NextOf(this);

    internal short Version => _core.Version;

    internal bool IsCompleted => _core.IsCompleted;

    /// <summary>Arms the node; the queue has linked it already.</summary>
    internal void Arm(CancellationToken cancellationToken, TimeSpan? timeout, bool timeoutThrows, T? timeoutValue)
    {
        if (timeout is { } delay && delay != Timeout.InfiniteTimeSpan)
        {
            _timeoutThrows = timeoutThrows;
            _timeoutValue = timeoutValue;
            // Direct: a timeout only unlinks the node and queues the continuation; no user code runs.
            _timer ??= new TimerHandle(_queue.Loop) { Callback = s_onTimer, State = this, Direct = true };
            _timer.Reset();
            _queue.Loop.ScheduleTimer(_timer, delay);
        }

        _registration.Register(cancellationToken, this, _core.Version);
    }

    internal void Reset() => _core.Reset();

    /// <summary>Hands the waiter its value; it leaves the list. Must not be completed yet.</summary>
    internal void Succeed(T value)
    {
        Finish();
        _core.SetResult(_queue.Loop, value);
    }

    /// <summary>Fails the waiter unless it already completed; it leaves the list.</summary>
    internal void Fail(Exception error)
    {
        if (_core.IsCompleted)
        {
            return;
        }

        Finish();
        _core.SetException(_queue.Loop, error);
    }

    internal override void Abort(Exception error) => Fail(error);

    private void Finish()
    {
        _queue.Unlink(this);
        Detach();
        _timer?.Cancel();
        _registration.Release();
        Item = default;
        State = null;
        _timeoutValue = default;
    }

    Loop ITokenCancellable.TokenLoop => _queue.Loop;

    void ITokenCancellable.CancelFromToken(short version, CancellationToken token)
    {
        if (version == _core.Version && !_core.IsCompleted)
        {
            Fail(new OperationCanceledException(token));
        }
    }

    private void OnTimeout()
    {
        if (_core.IsCompleted)
        {
            return;
        }

        if (_timeoutThrows)
        {
            Fail(new TimeoutException("The wait timed out."));
        }
        else
        {
            T? value = _timeoutValue;
            Finish();
            _core.SetResult(_queue.Loop, value!);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_queue.Loop, continuation, state, token, flags);

    public T GetResult(short token)
    {
        T? result = _core.TakeResult(token, out Exception? error);
        _core.Reset(); // invalidates the token before the node can be handed out again
        _queue.Return(this);
        LoopValueTaskSourceCore<T>.ThrowIfError(error);
        return result!;
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    /// <summary>Finds a waiter's links in its queue's list.</summary>
    internal struct QueueList : ILinksAccessor<Waiter<T>>
    {
        public static ref IntrusiveLinks<Waiter<T>> Of(Waiter<T> node) => ref node.QueueLinks;
    }
}
