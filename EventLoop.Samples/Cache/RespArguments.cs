using System.Buffers;
using System.Collections;

namespace EventLoop.Samples.Cache;

/// <summary>
/// The arguments of one parsed request, stored back to back in a reusable byte arena.
/// </summary>
/// <remarks>
/// Copying argument bytes out of the receive buffer lets the connection compact or reuse that buffer
/// freely, and one arena for all arguments means parsing allocates nothing once warm. The arena is
/// rented from <see cref="ArrayPool{T}.Shared"/> when the first argument arrives and goes back with
/// <see cref="ReleaseStorage"/> when the connection is idle, so thousands of idle connections hold
/// no arena at all. Items are views into the arena: they are valid only until the next
/// <see cref="Clear"/>, so anything stored past the command (keys, values) must be copied.
/// Not thread-safe; one instance per connection.
/// </remarks>
public sealed class RespArguments : IReadOnlyList<ReadOnlyMemory<byte>>
{
    // 4 KiB covers typical commands; arenas above 64 KiB go back to the pool on Clear so one huge SET
    // does not pin its size for the life of the connection.
    private const int InitialArenaSize = 4096;
    private const int RetainedArenaLimit = 64 * 1024;
    private const int InitialRangeCount = 8;

    // Arenas above 1 MiB are allocated for the one request and dropped, never pooled.
    private const int MaxPooledArena = 1024 * 1024;

    private byte[] _arena = [];
    private int _arenaUsed;
    private (int Start, int Length)[] _ranges = [];
    private int _count;

    /// <summary>Number of arguments, including the command name.</summary>
    public int Count => _count;

    /// <summary>Gets argument <paramref name="index"/> as a view into the arena.</summary>
    /// <param name="index">Zero-based argument index; 0 is the command name.</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="Count"/>.</exception>
    public ReadOnlyMemory<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            var (start, length) = _ranges[index];
            return new ReadOnlyMemory<byte>(_arena, start, length);
        }
    }

    /// <summary>Gets argument <paramref name="index"/> as a span; cheaper than the indexer.</summary>
    /// <param name="index">Zero-based argument index.</param>
    /// <returns>The argument bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="Count"/>.</exception>
    public ReadOnlySpan<byte> Span(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        var (start, length) = _ranges[index];
        return new ReadOnlySpan<byte>(_arena, start, length);
    }

    /// <summary>Removes all arguments, keeping the arena unless it grew unusually large.</summary>
    public void Clear()
    {
        _count = 0;
        _arenaUsed = 0;
        if (_arena.Length > RetainedArenaLimit)
        {
            ReleaseStorage();
        }

        if (_ranges.Length > 1024)
        {
            _ranges = [];
        }
    }

    /// <summary>Removes all arguments and returns the arena to the pool; the next argument rents one again.</summary>
    public void ReleaseStorage()
    {
        _count = 0;
        _arenaUsed = 0;
        ReturnArena();
    }

    /// <summary>Appends a copy of <paramref name="value"/> as the next argument.</summary>
    /// <param name="value">The argument bytes.</param>
    public void Add(ReadOnlySpan<byte> value)
    {
        var destination = Reserve(value.Length);
        value.CopyTo(destination);
    }

    /// <summary>Appends an argument of <paramref name="length"/> bytes and returns its storage to fill in.</summary>
    /// <param name="length">The argument length in bytes.</param>
    /// <returns>The writable storage for the new argument.</returns>
    internal Span<byte> Reserve(int length)
    {
        if (_arena.Length - _arenaUsed < length)
        {
            GrowArena(length);
        }

        if (_count == _ranges.Length)
        {
            Array.Resize(ref _ranges, Math.Max(InitialRangeCount, _ranges.Length * 2));
        }

        int start = _arenaUsed;
        _ranges[_count++] = (start, length);
        _arenaUsed += length;
        return new Span<byte>(_arena, start, length);
    }

    /// <summary>Shortens the last argument to <paramref name="length"/> bytes, returning the rest of its reservation.</summary>
    /// <param name="length">The final length; at most the reserved length.</param>
    internal void ShrinkLast(int length)
    {
        ref var last = ref _ranges[_count - 1];
        last.Length = length;
        _arenaUsed = last.Start + length;
    }

    /// <summary>Enumerates the arguments. Allocates; prefer indexing on hot paths.</summary>
    /// <returns>An enumerator over the arguments.</returns>
    public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void GrowArena(int needed)
    {
        int target = (int)Math.Min(Math.Max(Math.Max((long)_arena.Length * 2, InitialArenaSize), (long)_arenaUsed + needed), Array.MaxLength);
        byte[] bigger = target <= MaxPooledArena ? ArrayPool<byte>.Shared.Rent(target) : GC.AllocateUninitializedArray<byte>(target);
        _arena.AsSpan(0, _arenaUsed).CopyTo(bigger);
        ReturnArena();
        _arena = bigger;
    }

    private void ReturnArena()
    {
        if (_arena.Length is > 0 and <= MaxPooledArena)
        {
            ArrayPool<byte>.Shared.Return(_arena);
        }

        _arena = [];
    }
}
