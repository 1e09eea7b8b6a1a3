using System.Diagnostics.CodeAnalysis;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A FIFO queue that counts unfinished items, like gevent's <c>JoinableQueue</c>: every accepted
/// item adds one, <see cref="TaskDone"/> takes one away, and <see cref="JoinAsync"/> waits until
/// the count is zero. Otherwise it behaves as <see cref="LoopQueue{T}"/>. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class JoinableLoopQueue<T> : IAsyncEnumerable<T>
{
    private readonly QueueCore<T> _core;
    private readonly LoopEvent _allDone;
    private int _unfinished;

    /// <summary>Creates a joinable queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="capacity">The most items it holds; null for no bound.</param>
    public JoinableLoopQueue(Loop loop, int? capacity = null)
    {
        _core = new QueueCore<T>(loop, QueueCapacity.Validate(capacity), new ItemStore<T>.Fifo(), OnItemAccepted);
        _core.DescribeAs(this);
        _allDone = new LoopEvent(loop, initialState: true);
    }

    /// <summary>Items put but not yet marked done with <see cref="TaskDone"/>.</summary>
    public int UnfinishedTasks => _unfinished;

    /// <summary>Marks one item as processed. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put.</exception>
    public void TaskDone()
    {
        _core.Loop.VerifyAccess(nameof(TaskDone));
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

    /// <inheritdoc cref="LoopQueue{T}.Count"/>
    public int Count => _core.Count;

    /// <inheritdoc cref="LoopQueue{T}.Capacity"/>
    public int Capacity => _core.Capacity;

    /// <inheritdoc cref="LoopQueue{T}.IsCompleted"/>
    public bool IsCompleted => _core.IsCompleted;

    /// <inheritdoc cref="LoopQueue{T}.WaitingGetters"/>
    public int WaitingGetters => _core.WaitingGetters;

    /// <inheritdoc cref="LoopQueue{T}.WaitingPutters"/>
    public int WaitingPutters => _core.WaitingPutters;

    internal int PooledWaiterCount => _core.PooledWaiterCount;

    /// <inheritdoc cref="LoopQueue{T}.TryPut"/>
    public bool TryPut(T item) => _core.TryPut(item);

    /// <inheritdoc cref="LoopQueue{T}.PutAsync(T, CancellationToken)"/>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default) => _core.PutAsync(item, null, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.PutAsync(T, TimeSpan?, CancellationToken)"/>
    public ValueTask PutAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.PutAsync(item, timeout, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.TryGet"/>
    public bool TryGet([MaybeNullWhen(false)] out T item) => _core.TryGet(out item);

    /// <inheritdoc cref="LoopQueue{T}.GetAsync(CancellationToken)"/>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => _core.GetAsync(null, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.GetAsync(TimeSpan?, CancellationToken)"/>
    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.GetAsync(timeout, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.Complete"/>
    public void Complete() => _core.Complete();

    /// <inheritdoc cref="LoopQueue{T}.GetAsyncEnumerator"/>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => _core.GetAsyncEnumerator(cancellationToken);

    private void OnItemAccepted()
    {
        if (_unfinished++ == 0)
        {
            _allDone.Clear();
        }
    }
}
