using EventLoop.Internal;

namespace EventLoop.Sync;

/// <summary>
/// One suspended wait on a coordination primitive: a node of its <see cref="WaitQueue{T}"/>'s
/// FIFO list and a pooled <see cref="LoopWaitSource{TResult}"/> (so a kill, a cancel scope or
/// its token aborts it), with an optional per-call timeout. Loop-thread only.
/// </summary>
/// <remarks>
/// A waiter leaves its list the moment it completes, whichever way: handed a value by the
/// primitive, canceled by its token, aborted, or timed out. Only the first completion counts,
/// so a value handed over beats a cancellation that arrives later: the primitive never has to
/// take anything back, and nothing is lost. The node returns to its queue's pool in GetResult.
/// </remarks>
/// <typeparam name="T">The value the wait produces.</typeparam>
internal sealed class Waiter<T> : LoopWaitSource<T>
{
    private static readonly Action<object?> s_onTimer = static s => ((Waiter<T>)s!).OnTimeout();
    private readonly WaitQueue<T> _queue;
    private TimerHandle? _timer;
    private bool _timeoutThrows;
    private T? _timeoutValue;

    // Links in the queue's FIFO list; unlinked while the node is free.
    internal IntrusiveLinks<Waiter<T>> QueueLinks;

    /// <summary>What a putter carries (queue puts), handed over when it is served.</summary>
    internal T? Item;

    /// <summary>Primitive-specific tag (e.g. a join's raiseError flag).</summary>
    internal object? State;

    public Waiter(WaitQueue<T> queue)
        : base(queue.Loop)
    {
        _queue = queue;
    }

    public override string Describe() => _queue.Describe();

    /// <summary>The waiter queued after this one, or null.</summary>
    internal Waiter<T>? Next => _queue.NextOf(this);

    /// <summary>
    /// Starts the wait: links it to the greenlet and the token, then (when that left it pending)
    /// to the queue's tail and the timeout. Returns false when it completed at once.
    /// </summary>
    internal bool Start(CancellationToken cancellationToken, TimeSpan? timeout, bool timeoutThrows, T? timeoutValue)
    {
        if (!Begin(cancellationToken))
        {
            return false;
        }

        _queue.Link(this);
        if (timeout is { } delay && delay != Timeout.InfiniteTimeSpan)
        {
            _timeoutThrows = timeoutThrows;
            _timeoutValue = timeoutValue;
            // Direct: a timeout only unlinks the node and queues the continuation; no user code runs.
            _timer ??= new TimerHandle(Loop) { Callback = s_onTimer, State = this, Direct = true };
            _timer.Reset();
            Loop.ScheduleTimer(_timer, delay);
        }

        return true;
    }

    /// <summary>Hands the waiter its value; it leaves the list. Must be pending.</summary>
    internal void Succeed(T value) => TrySetResult(value);

    /// <summary>Fails the waiter unless it already completed; it leaves the list.</summary>
    internal void Fail(Exception error) => TrySetException(error);

    protected override void OnCompleting()
    {
        _queue.Unlink(this);
        _timer?.Cancel();
        Item = default;
        State = null;
        _timeoutValue = default;
    }

    protected override void OnResultTaken() => _queue.Return(this);

    private void OnTimeout()
    {
        if (!IsPending)
        {
            return;
        }

        if (_timeoutThrows)
        {
            TrySetException(new LoopTimeoutException("The wait timed out."));
        }
        else
        {
            TrySetResult(_timeoutValue!);
        }
    }

    /// <summary>Finds a waiter's links in its queue's list.</summary>
    internal struct QueueList : ILinksAccessor<Waiter<T>>
    {
        public static ref IntrusiveLinks<Waiter<T>> Of(Waiter<T> node) => ref node.QueueLinks;
    }
}
