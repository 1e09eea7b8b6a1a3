namespace EventLoop;

/// <summary>
/// A <see cref="LoopQueue{T}"/> that hands out the smallest item first (by an <see cref="IComparer{T}"/>),
/// like gevent's <c>PriorityQueue</c>; equal items come out in the order they were put. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class PriorityLoopQueue<T> : LoopQueue<T>
{
    private readonly PriorityQueue<T, (T Item, long Sequence)> _items;
    private long _sequence;

    /// <summary>Creates a priority queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="comparer">Orders the items; null for <see cref="Comparer{T}.Default"/>.</param>
    /// <param name="capacity">The most items it holds; null for no bound.</param>
    public PriorityLoopQueue(Loop loop, IComparer<T>? comparer = null, int? capacity = null)
        : base(loop, capacity)
    {
        IComparer<T> itemComparer = comparer ?? Comparer<T>.Default;
        // The sequence breaks ties, so equal items keep FIFO order (a bare heap would not).
        _items = new PriorityQueue<T, (T Item, long Sequence)>(Comparer<(T Item, long Sequence)>.Create((a, b) =>
        {
            int order = itemComparer.Compare(a.Item, b.Item);
            return order != 0 ? order : a.Sequence.CompareTo(b.Sequence);
        }));
    }

    private protected override int StoredCount => _items.Count;

    private protected override void StoreItem(T item) => _items.Enqueue(item, (item, _sequence++));

    private protected override T TakeItem() => _items.Dequeue();
}
