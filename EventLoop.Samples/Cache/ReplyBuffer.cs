using System.Buffers;

namespace EventLoop.Samples.Cache;

/// <summary>
/// One connection's unsent replies: a queue of segments, each either a 16 KiB chunk rented from
/// <see cref="ArrayPool{T}.Shared"/> that replies are written into, or a stored value referenced as it
/// is (Redis's reply list, where a large object is queued rather than copied). Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is held while nothing is pending: the first write rents a chunk, and once the transport
/// has sent everything every chunk goes back to the pool, so an idle connection owns no reply
/// memory and a burst of clients reuses the same few chunks instead of each allocating (and zeroing)
/// its own. Chunks are 16 KiB, Redis's <c>PROTO_REPLY_CHUNK_BYTES</c>, below the large-object
/// threshold, so they live in the ordinary heap even when the pool has to create one.
/// </para>
/// <para>
/// A value of <see cref="ReferenceThreshold"/> bytes or more is queued by reference: serving a
/// 256 KiB GET copies nothing and allocates nothing. That is safe because the store never modifies
/// such an array in place (a write replaces the array; only INCR rewrites in place, and only values
/// of at most 20 digits), so the bytes sent are the value as it was when the command ran.
/// </para>
/// </remarks>
public sealed class ReplyBuffer : IBufferWriter<byte>
{
    /// <summary>Values at least this long are queued by reference rather than copied (8 KiB: copying less costs less than another send).</summary>
    public const int ReferenceThreshold = 8 * 1024;

    // Redis's PROTO_REPLY_CHUNK_BYTES.
    private const int ChunkSize = 16 * 1024;
    private const int SmallChunkSize = 512;

    private Segment[] _segments = [];
    private int _head;
    private int _count;
    private long _pendingBytes;

    /// <summary>Bytes written or queued and not yet marked sent.</summary>
    public long PendingBytes => _pendingBytes;

    /// <summary>True when nothing is pending.</summary>
    public bool IsEmpty => _pendingBytes == 0;

    /// <summary>The unsent part of the first segment; empty when nothing is pending. Valid until the next call that writes or advances.</summary>
    public ReadOnlyMemory<byte> First
    {
        get
        {
            if (_count == 0)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            ref Segment head = ref _segments[_head];
            return new ReadOnlyMemory<byte>(head.Array, head.Start, head.End - head.Start);
        }
    }

    /// <summary>Number of segments pending (chunks and referenced values).</summary>
    internal int SegmentCount => _count;

    /// <summary>Marks <paramref name="bytes"/> of <see cref="First"/> as sent.</summary>
    /// <param name="bytes">At most <see cref="First"/>'s length.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative or beyond the first segment.</exception>
    public void MarkSent(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, First.Length);
        ref Segment head = ref _segments[_head];
        head.Start += bytes;
        _pendingBytes -= bytes;
        if (_pendingBytes == 0)
        {
            Clear();
        }
        else if (head.Start == head.End && (_count > 1 || !head.Pooled))
        {
            Dequeue();
        }
    }

    /// <summary>Queues <paramref name="value"/> itself, without copying; the array must not change until it is sent.</summary>
    /// <param name="value">The bytes to send.</param>
    public void AppendReference(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return;
        }

        Enqueue(new Segment(value, value.Length, pooled: false));
        _pendingBytes += value.Length;
    }

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return;
        }

        ref Segment tail = ref _segments[Tail];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, tail.Array.Length - tail.End);
        tail.End += count;
        _pendingBytes += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        ref Segment tail = ref WritableTail(sizeHint);
        return tail.Array.AsMemory(tail.End);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        ref Segment tail = ref WritableTail(sizeHint);
        return tail.Array.AsSpan(tail.End);
    }

    /// <summary>Drops everything pending and returns the chunks to the pool.</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            ref Segment segment = ref _segments[(_head + i) % _segments.Length];
            if (segment.Pooled)
            {
                ArrayPool<byte>.Shared.Return(segment.Array);
            }

            segment = default;
        }

        _head = 0;
        _count = 0;
        _pendingBytes = 0;

        // A deep pipeline can queue many segments; keep only a small ring.
        if (_segments.Length > 16)
        {
            _segments = [];
        }
    }

    private int Tail => (_head + _count - 1) % _segments.Length;

    private ref Segment WritableTail(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_count > 0)
        {
            ref Segment tail = ref _segments[Tail];
            if (tail.Pooled && tail.Array.Length - tail.End >= needed)
            {
                return ref tail;
            }
        }

        // After a referenced value the next write is usually its CRLF and the next reply's header:
        // a small chunk, so a pipeline of large values does not cost a 16 KiB chunk per value.
        int size = _count > 0 && !_segments[Tail].Pooled ? SmallChunkSize : ChunkSize;
        Enqueue(new Segment(ArrayPool<byte>.Shared.Rent(Math.Max(needed, size)), 0, pooled: true));
        return ref _segments[Tail];
    }

    private void Enqueue(Segment segment)
    {
        if (_count == _segments.Length)
        {
            var bigger = new Segment[Math.Max(4, _segments.Length * 2)];
            for (int i = 0; i < _count; i++)
            {
                bigger[i] = _segments[(_head + i) % _segments.Length];
            }

            _segments = bigger;
            _head = 0;
        }

        _segments[(_head + _count) % _segments.Length] = segment;
        _count++;
    }

    private void Dequeue()
    {
        ref Segment head = ref _segments[_head];
        if (head.Pooled)
        {
            ArrayPool<byte>.Shared.Return(head.Array);
        }

        head = default;
        _head = (_head + 1) % _segments.Length;
        _count--;
    }

    private struct Segment(byte[] array, int end, bool pooled)
    {
        public readonly byte[] Array = array;
        public readonly bool Pooled = pooled;
        public int Start;
        public int End = end;
    }
}
