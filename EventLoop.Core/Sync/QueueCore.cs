using System.Diagnostics.CodeAnalysis;

namespace EventLoop.Sync;

/// <summary>
/// The queue behind <see cref="LoopQueue{T}"/>, its LIFO, priority and joinable variants and
/// <see cref="LoopChannel{T}"/>: getters and putters wait in FIFO lists; an item put while a getter
/// waits goes straight to the oldest getter; a get that frees room lets the oldest putter in;
/// with no room at all (a rendezvous) a get takes the oldest putter's item directly. The
/// <see cref="ItemStore{T}"/> decides the order of stored items. Loop-thread only; members
/// verify the thread.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class QueueCore<T>
{
    private readonly Loop _loop;
    private readonly WaitQueue<T> _getters;
    private readonly WaitQueue<T> _putters;
    private readonly int _capacity;
    private readonly ItemStore<T> _store;
    private readonly Action? _onItemAccepted;
    private bool _completed;

    public QueueCore(Loop loop, int capacity, ItemStore<T> store, Action? onItemAccepted = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
        _capacity = capacity;
        _store = store;
        _onItemAccepted = onItemAccepted;
        _getters = new WaitQueue<T>(loop);
        _putters = new WaitQueue<T>(loop);
    }

    public Loop Loop => _loop;

    /// <summary>Names the public queue a dump shows for its waiters.</summary>
    public void DescribeAs(object owner)
    {
        _getters.DescribeAs(owner, "GetAsync");
        _putters.DescribeAs(owner, "PutAsync");
    }

    public int Count => StoredCount;

    public int Capacity => _capacity;

    public bool IsCompleted => _completed;

    public int WaitingGetters => _getters.Count;

    public int WaitingPutters => _putters.Count;

    public int PooledWaiterCount => _getters.PooledCount + _putters.PooledCount;

    private int StoredCount => _store.Count;

    public bool TryPut(T item)
    {
        _loop.VerifyAccess(nameof(TryPut));
        return !_completed && TryPutCore(item);
    }

    public ValueTask PutAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        _loop.VerifyAccess(nameof(PutAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_completed)
        {
            return ValueTask.FromException(new LoopQueueCompletedException());
        }

        return TryPutCore(item) ? default : _putters.WaitNoResultAsync(cancellationToken, timeout, item);
    }

    public bool TryGet([MaybeNullWhen(false)] out T item)
    {
        _loop.VerifyAccess(nameof(TryGet));
        return TryGetCore(out item);
    }

    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        _loop.VerifyAccess(nameof(GetAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (TryGetCore(out T? item))
        {
            return new ValueTask<T>(item);
        }

        return _completed
            ? ValueTask.FromException<T>(new LoopQueueCompletedException())
            : _getters.WaitAsync(cancellationToken, timeout);
    }

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

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken) => new Enumerator(this, cancellationToken);

    private void StoreItem(T item) => _store.Add(item);

    private T TakeItem() => _store.Take();

    private void OnItemAccepted() => _onItemAccepted?.Invoke();

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

    private sealed class Enumerator(QueueCore<T> queue, CancellationToken cancellationToken) : IAsyncEnumerator<T>
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
