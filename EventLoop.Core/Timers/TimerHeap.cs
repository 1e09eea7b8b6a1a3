using System.Runtime.CompilerServices;

namespace EventLoop.Timers;

/// <summary>
/// A binary min-heap of timers ordered by (deadline, sequence), so timers with equal deadlines
/// fire in the order they were scheduled (libuv's tie-break). Each timer knows its index,
/// so cancellation removes it at once in O(log n): cancelled timers never pile up.
/// </summary>
internal sealed class TimerHeap
{
    private TimerHandle[] _items = new TimerHandle[64];
    private int _count;

    public int Count => _count;

    public TimerHandle? Peek() => _count == 0 ? null : _items[0];

    public void Push(TimerHandle timer)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        int index = _count++;
        _items[index] = timer;
        timer.HeapIndex = index;
        SiftUp(index);
    }

    public TimerHandle Pop()
    {
        TimerHandle top = _items[0];
        RemoveAt(0);
        return top;
    }

    public void Remove(TimerHandle timer)
    {
        int index = timer.HeapIndex;
        if (index >= 0 && index < _count && ReferenceEquals(_items[index], timer))
        {
            RemoveAt(index);
        }
    }

    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            _items[i].HeapIndex = -1;
        }

        Array.Clear(_items, 0, _count);
        _count = 0;
    }

    private void RemoveAt(int index)
    {
        TimerHandle removed = _items[index];
        removed.HeapIndex = -1;
        int last = --_count;
        if (index != last)
        {
            TimerHandle moved = _items[last];
            _items[index] = moved;
            moved.HeapIndex = index;
            _items[last] = null!;
            if (index > 0 && Less(moved, _items[(index - 1) >> 1]))
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
            _items[last] = null!;
        }

        // Shrink after a mass cancellation so 100,000 cancelled waits leave no large array behind.
        if (_items.Length > 1024 && _count < _items.Length / 4)
        {
            Array.Resize(ref _items, _items.Length / 2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Less(TimerHandle a, TimerHandle b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    private void SiftUp(int index)
    {
        TimerHandle item = _items[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            TimerHandle p = _items[parent];
            if (!Less(item, p))
            {
                break;
            }

            _items[index] = p;
            p.HeapIndex = index;
            index = parent;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        TimerHandle item = _items[index];
        int count = _count;
        while (true)
        {
            int child = (index << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Less(_items[child + 1], _items[child]))
            {
                child++;
            }

            TimerHandle c = _items[child];
            if (!Less(c, item))
            {
                break;
            }

            _items[index] = c;
            c.HeapIndex = index;
            index = child;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }
}
