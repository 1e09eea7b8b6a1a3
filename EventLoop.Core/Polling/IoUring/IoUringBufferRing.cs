using System.Runtime.InteropServices;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop.Polling;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): a pool of equal receive buffers the
/// kernel picks from when data arrives for a request submitted with IOSQE_BUFFER_SELECT, so a
/// waiting receive holds no memory. The buffers and the ring live in native memory, freed only
/// after the io_uring instance is closed. Loop-thread only.
/// </summary>
/// <remarks>
/// The ring is FIFO: the kernel takes buffers at its head, <see cref="Return"/> appends at the
/// tail (published with a release store of the 16-bit tail that overlays the first entry's
/// reserved field, as in include/uapi/linux/io_uring.h).
/// </remarks>
internal sealed unsafe class IoUringBufferRing : IDisposable
{
    private readonly BufferEntry* _entries;
    private readonly byte* _buffers;
    private readonly ushort _mask;
    private ushort _tail;

    private IoUringBufferRing(BufferEntry* entries, byte* buffers, int count, int size)
    {
        _entries = entries;
        _buffers = buffers;
        Count = count;
        BufferSize = size;
        _mask = (ushort)(count - 1);
        for (int i = 0; i < count; i++)
        {
            Put((ushort)i);
        }

        Publish();
    }

    /// <summary>How many buffers the pool has.</summary>
    public int Count { get; }

    /// <summary>The size of each buffer.</summary>
    public int BufferSize { get; }

    /// <summary>Registers a pool of <paramref name="count"/> (a power of two) buffers of <paramref name="size"/> bytes as group <paramref name="group"/>; null when the kernel refuses.</summary>
    public static IoUringBufferRing? TryCreate(IoUringRing ring, ushort group, int count, int size)
    {
        nuint ringBytes = (nuint)(count * sizeof(BufferEntry));
        var entries = (BufferEntry*)NativeMemory.AlignedAlloc(ringBytes, 4096);
        NativeMemory.Clear(entries, ringBytes);
        byte* buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)size, 4096);
        var registration = new BufferRegistration { RingAddress = (ulong)entries, RingEntries = (uint)count, Group = group };
        if (ring.Register(IORING_REGISTER_PBUF_RING, &registration, 1) < 0)
        {
            NativeMemory.AlignedFree(entries);
            NativeMemory.AlignedFree(buffers);
            return null;
        }

        return new IoUringBufferRing(entries, buffers, count, size);
    }

    /// <summary>The first <paramref name="length"/> bytes of buffer <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> Data(ushort id, int length) => new(_buffers + ((nuint)id * (nuint)BufferSize), length);

    /// <summary>Gives buffer <paramref name="id"/> back to the kernel.</summary>
    public void Return(ushort id)
    {
        Put(id);
        Publish();
    }

    /// <summary>Frees the memory; call only once the io_uring instance is closed.</summary>
    public void Dispose()
    {
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_buffers);
    }

    private void Put(ushort id)
    {
        BufferEntry* entry = &_entries[_tail & _mask];
        entry->Address = (ulong)(_buffers + ((nuint)id * (nuint)BufferSize));
        entry->Length = (uint)BufferSize;
        entry->Id = id;
        _tail++;
    }

    // The tail is the 16-bit field at byte 14 of the ring (the first entry's reserved field).
    private void Publish() => Volatile.Write(ref *(ushort*)((byte*)_entries + 14), _tail);

    /// <summary>struct io_uring_buf (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BufferEntry
    {
        public ulong Address;
        public uint Length;
        public ushort Id;
        public ushort Reserved;
    }

    /// <summary>struct io_uring_buf_reg (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BufferRegistration
    {
        public ulong RingAddress;
        public uint RingEntries;
        public ushort Group;
        public ushort Flags;
        public ulong Reserved0, Reserved1, Reserved2;
    }
}
