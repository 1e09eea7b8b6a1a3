using System.Runtime.CompilerServices;

namespace EventLoop.Scheduling;

/// <summary>
/// The loop-thread FIFO of ready work: a growable ring buffer of structs. No lock and no
/// allocation once it has grown to the working size. Not thread-safe by design.
/// </summary>
internal struct RunQueue
{
    // 256: a few pages; grows by doubling and never shrinks, like a List's backing array.
    private const int InitialCapacity = 256;

    private ReadyItem[] _items;
    private int _head;
    private int _count;

    public RunQueue()
    {
        _items = new ReadyItem[InitialCapacity];
    }

    public readonly int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(in ReadyItem item)
    {
        ReadyItem[] items = _items;
        if (_count == items.Length)
        {
            Grow();
            items = _items;
        }

        // Capacity is a power of two, so the mask wraps the index.
        items[(_head + _count) & (items.Length - 1)] = item;
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadyItem Dequeue()
    {
        ReadyItem item = PeekHead();
        DropHead();
        return item;
    }

    /// <summary>Adds the greenlet of every queued item that has one to <paramref name="owners"/> (a dump: who is about to run).</summary>
    public readonly void AddOwnersTo(HashSet<Greenlet> owners)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_items[(_head + i) & (_items.Length - 1)].Owner is { } owner)
            {
                owners.Add(owner);
            }
        }
    }

    /// <summary>True when an item attributed to <paramref name="owner"/> is queued. O(n): for the rare kill check, never a hot path.</summary>
    public readonly bool ContainsOwner(Greenlet owner)
    {
        for (int i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_items[(_head + i) & (_items.Length - 1)].Owner, owner))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The item at the head, left in its slot (pair with <see cref="DropHead"/>): a run that keeps its item visible.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ReadyItem PeekHead() => _items[_head];

    /// <summary>Removes the head item after <see cref="PeekHead"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void DropHead()
    {
        ReadyItem[] items = _items;
        items[_head] = default; // drop references so finished work can be collected
        _head = (_head + 1) & (items.Length - 1);
        _count--;
    }

    /// <summary>
    /// The head item's callback, read from another thread without synchronisation (the blocked-loop
    /// monitor, while the loop thread is stuck running that item): exact when the loop is held,
    /// possibly stale otherwise; never throws.
    /// </summary>
    public readonly object? HeadCallbackRacy()
    {
        ReadyItem[] items = Volatile.Read(ref Unsafe.AsRef(in _items));
        int head = Volatile.Read(ref Unsafe.AsRef(in _head));
        return items[head & (items.Length - 1)].Callback;
    }

    public void Clear()
    {
        while (_count > 0)
        {
            Dequeue();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        var larger = new ReadyItem[_items.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _items[(_head + i) & (_items.Length - 1)];
        }

        _items = larger;
        _head = 0;
    }
}
