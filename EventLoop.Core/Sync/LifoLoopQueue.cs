namespace EventLoop;

/// <summary>A <see cref="LoopQueue{T}"/> that hands out the newest item first, like gevent's <c>LifoQueue</c>. Loop-thread only.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class LifoLoopQueue<T> : LoopQueue<T>
{
    private readonly Stack<T> _items = new();

    /// <summary>Creates a LIFO queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="capacity">The most items it holds; null for no bound.</param>
    public LifoLoopQueue(Loop loop, int? capacity = null)
        : base(loop, capacity)
    {
    }

    private protected override int StoredCount => _items.Count;

    private protected override void StoreItem(T item) => _items.Push(item);

    private protected override T TakeItem() => _items.Pop();
}
