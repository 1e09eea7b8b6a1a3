namespace EventLoop.Scheduling;

/// <summary>
/// The inbox for work posted from other threads. Producers append under a short lock; the
/// loop swaps the whole batch out under the same lock and runs it outside, so the lock is
/// never held while user code runs. Per-producer order is kept because each producer's
/// appends are serialized by the lock.
/// </summary>
internal sealed class CrossThreadQueue
{
    private readonly System.Threading.Lock _gate = new();
    private ReadyItem[] _incoming = new ReadyItem[64];
    private ReadyItem[] _spare = new ReadyItem[64];
    private int _count;

    /// <summary>An unsynchronized peek, good enough to decide a poll timeout; a wake-up covers the race.</summary>
    public bool HasItems => Volatile.Read(ref _count) != 0;

    /// <summary>Appends one item. Any thread.</summary>
    public void Enqueue(in ReadyItem item)
    {
        lock (_gate)
        {
            if (_count == _incoming.Length)
            {
                Array.Resize(ref _incoming, _incoming.Length * 2);
            }

            _incoming[_count] = item;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>Moves every pending item into <paramref name="target"/> in arrival order. Loop thread.</summary>
    public int DrainTo(ref RunQueue target)
    {
        ReadyItem[] batch;
        int count;
        lock (_gate)
        {
            count = _count;
            if (count == 0)
            {
                return 0;
            }

            batch = _incoming;
            _incoming = _spare.Length >= batch.Length ? _spare : new ReadyItem[batch.Length];
            Volatile.Write(ref _count, 0);
        }

        for (int i = 0; i < count; i++)
        {
            target.Enqueue(batch[i]);
        }

        Array.Clear(batch, 0, count);
        _spare = batch; // only the loop thread touches _spare outside the lock
        return count;
    }
}
