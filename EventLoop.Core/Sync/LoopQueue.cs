using System.Diagnostics.CodeAnalysis;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A FIFO queue between greenlets, like gevent's <c>Queue</c>: unbounded, or bounded so that
/// <see cref="PutAsync"/> waits while it is full. An item put while a getter waits goes straight
/// to the oldest getter; a get that frees room lets the oldest putter in. After <see cref="Complete"/>,
/// gets drain what is left and then throw <see cref="LoopQueueCompletedException"/>, and
/// <c>await foreach</c> ends. Loop-thread only; members throw <see cref="InvalidOperationException"/>
/// off the loop thread.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public class LoopQueue<T> : IAsyncEnumerable<T>
{
    private readonly Loop _loop;
    private readonly WaitQueue<T> _getters;
    private readonly WaitQueue<T> _putters;
    private readonly int _capacity;
    private Queue<T>? _items;
    private bool _completed;

    /// <summary>Creates a queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="capacity">The most items it holds (puts wait beyond it); null for no bound.</param>
    public LoopQueue(Loop loop, int? capacity = null)
        : this(loop, capacity ?? int.MaxValue, validate: true)
    {
    }

    private protected LoopQueue(Loop loop, int capacity, bool validate)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (validate)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        }

        _loop = loop;
        _capacity = capacity;
        _getters = new WaitQueue<T>(loop);
        _putters = new WaitQueue<T>(loop);
    }

    /// <summary>Items held now (not counting items of putters still waiting).</summary>
    public int Count => StoredCount;

    /// <summary>The bound; <see cref="int.MaxValue"/> when unbounded.</summary>
    public int Capacity => _capacity;

    /// <summary>True once <see cref="Complete"/> was called (items may remain to be taken).</summary>
    public bool IsCompleted => _completed;

    /// <summary>Greenlets waiting in <see cref="GetAsync(CancellationToken)"/>.</summary>
    public int WaitingGetters => _getters.Count;

    /// <summary>Greenlets waiting in <see cref="PutAsync"/>.</summary>
    public int WaitingPutters => _putters.Count;

    /// <summary>The loop the queue belongs to.</summary>
    private protected Loop Loop => _loop;

    internal int PooledWaiterCount => _getters.PooledCount + _putters.PooledCount;

    private protected virtual int StoredCount => _items?.Count ?? 0;

    /// <summary>Adds an item if it fits, without waiting. Loop thread.</summary>
    /// <param name="item">The item.</param>
    /// <returns>False when the queue is full or completed.</returns>
    public bool TryPut(T item)
    {
        _loop.VerifyAccess(nameof(TryPut));
        return !_completed && TryPutCore(item);
    }

    /// <summary>
    /// Adds an item, waiting (FIFO among putters) while the queue is full. Allocation-free once
    /// warm when the token cannot be cancelled. Loop thread.
    /// </summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is not added then.</param>
    /// <returns>A ValueTask that completes once the item is in the queue (or taken).</returns>
    /// <exception cref="LoopQueueCompletedException">The queue was completed (also while waiting).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the greenlet killed.</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(PutAsync));
        if (_completed)
        {
            return ValueTask.FromException(new LoopQueueCompletedException());
        }

        return TryPutCore(item) ? default : _putters.WaitNoResultAsync(cancellationToken, null, item);
    }

    /// <summary>Takes an item if one is there, without waiting. Loop thread.</summary>
    /// <param name="item">The item taken.</param>
    /// <returns>False when no item is available.</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item)
    {
        _loop.VerifyAccess(nameof(TryGet));
        return TryGetCore(out item);
    }

    /// <summary>
    /// Takes an item, waiting (FIFO among getters) while the queue is empty. Allocation-free
    /// once warm when the token cannot be cancelled. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopQueueCompletedException">The queue is completed and empty.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the greenlet killed.</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => GetAsync(null, cancellationToken);

    /// <summary>Like <see cref="GetAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time).</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopTimeoutException">No item came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(GetAsync));
        if (TryGetCore(out T? item))
        {
            return new ValueTask<T>(item);
        }

        return _completed
            ? ValueTask.FromException<T>(new LoopQueueCompletedException())
            : _getters.WaitAsync(cancellationToken, timeout);
    }

    /// <summary>
    /// Declares that no more items will be put: waiting putters fail, gets drain the items left
    /// and then throw <see cref="LoopQueueCompletedException"/>. Idempotent. Loop thread.
    /// </summary>
    public void Complete()
    {
        _loop.VerifyAccess(nameof(Complete));
        if (_completed)
        {
            return;
        }

        _completed = true;
        _putters.FailAll(new LoopQueueCompletedException());
        if (StoredCount == 0)
        {
            _getters.FailAll(new LoopQueueCompletedException());
        }
    }

    /// <summary>Enumerates items as they are taken (each one is removed), until the queue is completed and drained.</summary>
    /// <param name="cancellationToken">Cancels a wait for the next item.</param>
    /// <returns>The enumerator.</returns>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Enumerator(this, cancellationToken);

    private protected virtual void StoreItem(T item) => (_items ??= new Queue<T>()).Enqueue(item);

    private protected virtual T TakeItem() => _items!.Dequeue();

    /// <summary>Called once for each item the queue accepts (stored or handed to a getter).</summary>
    private protected virtual void OnItemAccepted()
    {
    }

    private bool TryPutCore(T item)
    {
        // Getters only wait while nothing is stored, so handing over directly keeps the order.
        if (_getters.First is not null)
        {
            OnItemAccepted();
            _getters.WakeFirst(item);
            return true;
        }

        if (StoredCount < _capacity)
        {
            StoreItem(item);
            OnItemAccepted();
            return true;
        }

        return false;
    }

    private bool TryGetCore([MaybeNullWhen(false)] out T item)
    {
        if (StoredCount > 0)
        {
            item = TakeItem();
            while (StoredCount < _capacity && _putters.First is { } putter)
            {
                StoreItem(putter.Item!);
                OnItemAccepted();
                putter.Succeed(default!);
            }

            return true;
        }

        // Zero capacity (a rendezvous channel): take the oldest putter's item directly.
        if (_putters.First is { } waiting)
        {
            item = waiting.Item!;
            OnItemAccepted();
            waiting.Succeed(default!);
            return true;
        }

        item = default;
        return false;
    }

    private sealed class Enumerator(LoopQueue<T> queue, CancellationToken cancellationToken) : IAsyncEnumerator<T>
    {
        private T? _current;

        public T Current => _current!;

        public ValueTask<bool> MoveNextAsync()
        {
            queue._loop.VerifyAccess(nameof(MoveNextAsync));
            if (queue.TryGetCore(out T? item))
            {
                _current = item;
                return new ValueTask<bool>(true);
            }

            return queue._completed ? new ValueTask<bool>(false) : WaitAsync();
        }

        public ValueTask DisposeAsync() => default;

        private async ValueTask<bool> WaitAsync()
        {
            try
            {
                _current = await queue._getters.WaitAsync(cancellationToken);
                return true;
            }
            catch (LoopQueueCompletedException)
            {
                return false;
            }
        }
    }
}
