using System.Diagnostics.CodeAnalysis;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A FIFO queue between greenlets, like gevent's <c>Queue</c>: unbounded, or bounded so that
/// <see cref="PutAsync(T, CancellationToken)"/> waits while it is full. An item put while a getter waits goes straight
/// to the oldest getter; a get that frees room lets the oldest putter in. After <see cref="Complete"/>,
/// gets drain what is left and then throw <see cref="LoopQueueCompletedException"/>, and
/// <c>await foreach</c> ends. Loop-thread only; members throw <see cref="InvalidOperationException"/>
/// off the loop thread. The variants <see cref="LifoLoopQueue{T}"/>, <see cref="PriorityLoopQueue{T}"/>
/// and <see cref="JoinableLoopQueue{T}"/> behave the same but for the order items come out (or
/// the count of unfinished items); <see cref="LoopChannel{T}"/> is the rendezvous.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class LoopQueue<T> : IAsyncEnumerable<T>
{
    private readonly QueueCore<T> _core;

    /// <summary>Creates a queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="capacity">The most items it holds (puts wait beyond it); null for no bound.</param>
    public LoopQueue(Loop loop, int? capacity = null)
    {
        _core = new QueueCore<T>(loop, QueueCapacity.Validate(capacity), new ItemStore<T>.Fifo());
        _core.DescribeAs(this);
    }

    /// <summary>Items held now (not counting items of putters still waiting).</summary>
    public int Count => _core.Count;

    /// <summary>The bound; <see cref="int.MaxValue"/> when unbounded.</summary>
    public int Capacity => _core.Capacity;

    /// <summary>True once <see cref="Complete"/> was called (items may remain to be taken).</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>Greenlets waiting in <see cref="GetAsync(CancellationToken)"/>.</summary>
    public int WaitingGetters => _core.WaitingGetters;

    /// <summary>Greenlets waiting in <see cref="PutAsync(T, CancellationToken)"/>.</summary>
    public int WaitingPutters => _core.WaitingPutters;

    internal int PooledWaiterCount => _core.PooledWaiterCount;

    /// <summary>Adds an item if it fits, without waiting. Loop thread.</summary>
    /// <param name="item">The item.</param>
    /// <returns>False when the queue is full or completed.</returns>
    public bool TryPut(T item) => _core.TryPut(item);

    /// <summary>
    /// Adds an item, waiting (FIFO among putters) while the queue is full. Allocation-free once
    /// warm when the token cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is not added then.</param>
    /// <returns>A ValueTask that completes once the item is in the queue (or taken).</returns>
    /// <exception cref="LoopQueueCompletedException">The queue was completed (also while waiting).</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default) => _core.PutAsync(item, null, cancellationToken);

    /// <summary>Like <see cref="PutAsync(T, CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time); the item is not added then.</summary>
    /// <param name="item">The item.</param>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A ValueTask that completes once the item is in the queue (or taken).</returns>
    /// <exception cref="LoopTimeoutException">No room came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask PutAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.PutAsync(item, timeout, cancellationToken);

    /// <summary>Takes an item if one is there, without waiting. Loop thread.</summary>
    /// <param name="item">The item taken.</param>
    /// <returns>False when no item is available.</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item) => _core.TryGet(out item);

    /// <summary>
    /// Takes an item, waiting (FIFO among getters) while the queue is empty. Allocation-free
    /// once warm when the token cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopQueueCompletedException">The queue is completed and empty.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => _core.GetAsync(null, cancellationToken);

    /// <summary>Like <see cref="GetAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time).</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopTimeoutException">No item came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.GetAsync(timeout, cancellationToken);

    /// <summary>
    /// Declares that no more items will be put: waiting putters fail, gets drain the items left
    /// and then throw <see cref="LoopQueueCompletedException"/>. Idempotent. Loop thread.
    /// </summary>
    public void Complete() => _core.Complete();

    /// <summary>Enumerates items as they are taken (each one is removed), until the queue is completed and drained.</summary>
    /// <param name="cancellationToken">Cancels a wait for the next item.</param>
    /// <returns>The enumerator.</returns>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => _core.GetAsyncEnumerator(cancellationToken);
}
