namespace EventLoop.Sync;

/// <summary>
/// Where a <see cref="QueueCore{T}"/> keeps the items nobody has taken yet; the order in which
/// they come out is the only thing the queue variants differ in. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal abstract class ItemStore<T>
{
    /// <summary>Items held.</summary>
    public abstract int Count { get; }

    /// <summary>Keeps <paramref name="item"/>.</summary>
    public abstract void Add(T item);

    /// <summary>Removes and returns the next item; only called when <see cref="Count"/> is positive.</summary>
    public abstract T Take();

    /// <summary>First in, first out (gevent's <c>Queue</c>).</summary>
    public sealed class Fifo : ItemStore<T>
    {
        private Queue<T>? _items; // created on the first item: a hand-off queue never stores one

        public override int Count => _items?.Count ?? 0;

        public override void Add(T item) => (_items ??= new Queue<T>()).Enqueue(item);

        public override T Take() => _items!.Dequeue();
    }

    /// <summary>Last in, first out (gevent's <c>LifoQueue</c>).</summary>
    public sealed class Lifo : ItemStore<T>
    {
        private readonly Stack<T> _items = new();

        public override int Count => _items.Count;

        public override void Add(T item) => _items.Push(item);

        public override T Take() => _items.Pop();
    }

    /// <summary>Smallest first by a comparer, equal items in the order they came (gevent's <c>PriorityQueue</c>).</summary>
    public sealed class Priority : ItemStore<T>
    {
        private readonly PriorityQueue<T, (T Item, long Sequence)> _items;
        private long _sequence;

        public Priority(IComparer<T>? comparer)
        {
            IComparer<T> itemComparer = comparer ?? Comparer<T>.Default;
            // The sequence breaks ties, so equal items keep FIFO order (a bare heap would not).
            _items = new PriorityQueue<T, (T Item, long Sequence)>(Comparer<(T Item, long Sequence)>.Create((a, b) =>
            {
                int order = itemComparer.Compare(a.Item, b.Item);
                return order != 0 ? order : a.Sequence.CompareTo(b.Sequence);
            }));
        }

        public override int Count => _items.Count;

        public override void Add(T item) => _items.Enqueue(item, (item, _sequence++));

        public override T Take() => _items.Dequeue();
    }

    /// <summary>Holds nothing: a rendezvous, where every item goes from a putter straight to a getter.</summary>
    public sealed class None : ItemStore<T>
    {
        public override int Count => 0;

        public override void Add(T item) => throw new InvalidOperationException("A rendezvous holds no items.");

        public override T Take() => throw new InvalidOperationException("A rendezvous holds no items.");
    }
}
