using System.Runtime.CompilerServices;

namespace EventLoop.Timers;

/// <summary>
/// A binary min-heap of timers ordered by (deadline, sequence), so timers with equal deadlines
/// fire in the order they were scheduled (libuv's tie-break). Deadlines live in the heap's own
/// 16-byte entries, so sifting compares without touching the nodes (only a tie reads their
/// sequence numbers); each node knows its index, so
/// cancellation removes it at once in O(log n): cancelled timers never pile up.
/// </summary>
internal sealed class TimerHeap
{
    private Entry[] _items = new Entry[64];
    private int _count;

    public int Count => _count;

    /// <summary>The earliest deadline (loop ticks); the heap must not be empty.</summary>
    public long PeekDeadline() => _items[0].Deadline;

    /// <summary>The node with the earliest deadline; the heap must not be empty.</summary>
    public ITimerNode PeekNode() => _items[0].Node;

    public void Push(ITimerNode node, long deadline)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        int index = _count++;
        _items[index] = new Entry(deadline, node);
        SiftUp(index);
    }

    public ITimerNode Pop()
    {
        ITimerNode top = _items[0].Node;
        RemoveAt(0);
        return top;
    }

    public void Remove(ITimerNode node)
    {
        int index = node.HeapIndex;
        if (index >= 0 && index < _count && ReferenceEquals(_items[index].Node, node))
        {
            RemoveAt(index);
        }
    }

    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            _items[i].Node.HeapIndex = TimerQueue.NotScheduled;
        }

        Array.Clear(_items, 0, _count);
        _count = 0;
    }

    private void RemoveAt(int index)
    {
        _items[index].Node.HeapIndex = TimerQueue.NotScheduled;
        int last = --_count;
        if (index != last)
        {
            Entry moved = _items[last];
            _items[index] = moved;
            _items[last] = default;
            if (index > 0 && Less(in moved, in _items[(index - 1) >> 1]))
            {
                SiftUp(index);
            }
            else
            {
                SiftDown(index);
            }
        }
        else
        {
            _items[last] = default;
        }

        // Shrink after a mass cancellation so 100,000 cancelled waits leave no large array behind.
        if (_items.Length > 1024 && _count < _items.Length / 4)
        {
            Array.Resize(ref _items, _items.Length / 2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Less(in Entry a, in Entry b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Node.Sequence < b.Node.Sequence);

    private void SiftUp(int index)
    {
        Entry[] items = _items;
        Entry item = items[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!Less(in item, in items[parent]))
            {
                break;
            }

            items[index] = items[parent];
            items[index].Node.HeapIndex = index;
            index = parent;
        }

        items[index] = item;
        item.Node.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        Entry[] items = _items;
        Entry item = items[index];
        int count = _count;
        while (true)
        {
            int child = (index << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Less(in items[child + 1], in items[child]))
            {
                child++;
            }

            if (!Less(in items[child], in item))
            {
                break;
            }

            items[index] = items[child];
            items[index].Node.HeapIndex = index;
            index = child;
        }

        items[index] = item;
        item.Node.HeapIndex = index;
    }

    private readonly struct Entry(long deadline, ITimerNode node)
    {
        public readonly long Deadline = deadline;
        public readonly ITimerNode Node = node;
    }
}
