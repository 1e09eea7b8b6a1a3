namespace EventLoop;

/// <summary>
/// A FIFO <see cref="LoopQueue{T}"/> that counts unfinished items, like gevent's <c>JoinableQueue</c>:
/// every accepted item adds one, <see cref="TaskDone"/> takes one away, and <see cref="JoinAsync"/>
/// waits until the count is zero. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class JoinableLoopQueue<T> : LoopQueue<T>
{
    private readonly LoopEvent _allDone;
    private int _unfinished;

    /// <summary>Creates a joinable queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="capacity">The most items it holds; null for no bound.</param>
    public JoinableLoopQueue(Loop loop, int? capacity = null)
        : base(loop, capacity)
    {
        _allDone = new LoopEvent(loop, initialState: true);
    }

    /// <summary>Items put but not yet marked done with <see cref="TaskDone"/>.</summary>
    public int UnfinishedTasks => _unfinished;

    /// <summary>Marks one item as processed. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put.</exception>
    public void TaskDone()
    {
        Loop.VerifyAccess(nameof(TaskDone));
        if (_unfinished == 0)
        {
            throw new InvalidOperationException("TaskDone was called more times than items were put.");
        }

        if (--_unfinished == 0)
        {
            _allDone.Set();
        }
    }

    /// <summary>Waits until every item put has been marked done. Loop thread.</summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when all items are done, false when the timeout passed first.</returns>
    public ValueTask<bool> JoinAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _allDone.WaitAsync(timeout, cancellationToken);

    private protected override void OnItemAccepted()
    {
        if (_unfinished++ == 0)
        {
            _allDone.Clear();
        }
    }
}
