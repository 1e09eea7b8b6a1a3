namespace EventLoop.Timers;

/// <summary>
/// The loop's timers: a first-in-first-out run for the common case, backed by a
/// <see cref="TimerHeap"/> for the rest. Most timers are scheduled with deadlines that never go
/// down (100,000 sleeps of 10 ms, a per-connection idle timeout of 30 s): those are appended to
/// the run and popped from its head in O(1), touching no other node; only a timer due before the
/// run's tail goes to the heap. Node.js keeps a list per duration for the same reason. Pop takes
/// the earlier of the two heads by (deadline, sequence), so equal deadlines still fire in the
/// order they were scheduled.
/// </summary>
/// <remarks>
/// A node cancelled while in the run is only marked; the entry is dropped when it reaches the
/// head, or when stale entries outnumber live ones and the run is compacted, so cancelled
/// timers never pile up beyond the live ones. An entry remembers its node's sequence number: a
/// pooled node cancelled and scheduled again is not mistaken for its old entry.
/// </remarks>
internal sealed class TimerQueue
{
    /// <summary><see cref="ITimerNode.HeapIndex"/> of a node that is not scheduled.</summary>
    internal const int NotScheduled = -1;

    /// <summary><see cref="ITimerNode.HeapIndex"/> of a node that waits in the run.</summary>
    internal const int InRun = -2;

    private const int MinimumCapacity = 64;

    private readonly TimerHeap _heap = new();
    private Entry[] _run = new Entry[MinimumCapacity];
    private int _head;
    private int _runCount; // entries in the ring, stale ones included
    private int _stale;
    private int _peak; // most entries held since the run last emptied
    private int _smallBursts; // consecutive bursts that used under a quarter of the capacity

    /// <summary>Live timers.</summary>
    public int Count => _heap.Count + _runCount - _stale;

    /// <summary>The run's capacity in entries (for tests of its memory policy).</summary>
    internal int RunCapacity => _run.Length;

    /// <summary>The earliest deadline (loop ticks), if any timer is scheduled.</summary>
    public bool TryPeekDeadline(out long deadline)
    {
        if (Count == 0)
        {
            deadline = 0;
            return false;
        }

        deadline = PeekDeadline();
        return true;
    }

    /// <summary>The earliest deadline (loop ticks); the queue must not be empty.</summary>
    public long PeekDeadline()
    {
        if (_runCount == 0)
        {
            return _heap.PeekDeadline();
        }

        long run = _run[_head].Deadline; // the head is never stale (see TrimHead)
        return _heap.Count == 0 ? run : Math.Min(run, _heap.PeekDeadline());
    }

    public void Push(ITimerNode node, long deadline)
    {
        if (_runCount == 0 || deadline >= _run[Tail].Deadline)
        {
            Append(new Entry(deadline, node.Sequence, node));
            node.HeapIndex = InRun;
        }
        else
        {
            _heap.Push(node, deadline);
        }
    }

    /// <summary>Removes and returns the earliest timer; the queue must not be empty.</summary>
    public ITimerNode Pop()
    {
        if (_runCount != 0 && (_heap.Count == 0 || RunHeadFirst()))
        {
            ITimerNode node = _run[_head].Node;
            node.HeapIndex = NotScheduled;
            RemoveHead();
            TrimHead();
            return node;
        }

        return _heap.Pop();
    }

    public void Remove(ITimerNode node)
    {
        if (node.HeapIndex >= 0)
        {
            _heap.Remove(node);
        }
        else if (node.HeapIndex == InRun)
        {
            node.HeapIndex = NotScheduled;
            _stale++;
            TrimHead();
            if (_stale > MinimumCapacity && _stale > _runCount / 2)
            {
                Compact();
            }
        }
    }

    public void Clear()
    {
        _heap.Clear();
        for (int i = 0; i < _runCount; i++)
        {
            ref Entry entry = ref _run[(_head + i) & (_run.Length - 1)];
            if (IsLive(in entry))
            {
                entry.Node.HeapIndex = NotScheduled;
            }
        }

        _run = new Entry[MinimumCapacity];
        _head = 0;
        _runCount = 0;
        _stale = 0;
        _peak = 0;
        _smallBursts = 0;
    }

    private int Tail => (_head + _runCount - 1) & (_run.Length - 1);

    private static bool IsLive(in Entry entry) =>
        entry.Node.HeapIndex == InRun && entry.Node.Sequence == entry.Sequence;

    private bool RunHeadFirst()
    {
        ref Entry head = ref _run[_head];
        long heapDeadline = _heap.PeekDeadline();
        return head.Deadline < heapDeadline ||
            (head.Deadline == heapDeadline && head.Sequence < _heap.PeekNode().Sequence);
    }

    private void Append(Entry entry)
    {
        if (_runCount == _run.Length)
        {
            Resize(_run.Length * 2);
        }

        _run[(_head + _runCount) & (_run.Length - 1)] = entry;
        if (++_runCount > _peak)
        {
            _peak = _runCount;
        }
    }

    private void RemoveHead()
    {
        _run[_head] = default;
        _head = (_head + 1) & (_run.Length - 1);
        _runCount--;
    }

    // Keeps the head live, so PeekDeadline never reports a cancelled timer's deadline.
    private void TrimHead()
    {
        while (_runCount != 0 && !IsLive(in _run[_head]))
        {
            RemoveHead();
            _stale--;
        }

        if (_runCount == 0)
        {
            _head = 0;
            ShrinkAfterSmallBursts();
        }
    }

    // A loop that keeps scheduling bursts of the same size keeps its capacity (no churn per burst);
    // one whose bursts stay under a quarter of it eight times running halves it.
    private void ShrinkAfterSmallBursts()
    {
        if (_run.Length > MinimumCapacity && _peak < _run.Length / 4)
        {
            if (++_smallBursts >= 8)
            {
                _run = new Entry[_run.Length / 2];
                _smallBursts = 0;
            }
        }
        else
        {
            _smallBursts = 0;
        }

        _peak = 0;
    }

    private void Compact()
    {
        int live = _runCount - _stale;
        int capacity = MinimumCapacity;
        while (capacity < live * 2)
        {
            capacity *= 2;
        }

        var compacted = new Entry[capacity];
        int n = 0;
        for (int i = 0; i < _runCount; i++)
        {
            ref Entry entry = ref _run[(_head + i) & (_run.Length - 1)];
            if (IsLive(in entry))
            {
                compacted[n++] = entry;
            }
        }

        _run = compacted;
        _head = 0;
        _runCount = n;
        _stale = 0;
    }

    private void Resize(int capacity)
    {
        var resized = new Entry[capacity];
        for (int i = 0; i < _runCount; i++)
        {
            resized[i] = _run[(_head + i) & (_run.Length - 1)];
        }

        _run = resized;
        _head = 0;
    }

    private readonly struct Entry(long deadline, long sequence, ITimerNode node)
    {
        public readonly long Deadline = deadline;
        public readonly long Sequence = sequence;
        public readonly ITimerNode Node = node;
    }
}
