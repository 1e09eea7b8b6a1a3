using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop.Polling;

/// <summary>
/// One io_uring instance: the descriptor, the mmapped submission and completion rings and the
/// SQE array, and the head/tail protocol. Knows nothing about polling. Loop-thread only.
/// </summary>
/// <remarks>
/// Memory ordering follows the kernel's io_uring.h comments: SQEs are filled before the SQ tail
/// is published with a release store; the CQ tail is read with an acquire load before CQEs are
/// read, and the CQ head is published with a release store after they are consumed. Without
/// SQPOLL the kernel consumes SQEs only inside io_uring_enter, so "submitted" is a local count.
/// </remarks>
internal sealed unsafe class IoUringRing : IDisposable
{
    private readonly int _fd;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqeTail;
    private uint _submitted;
    private uint _cqHeadLocal;
    private bool _disposed;

    /// <summary>Sets up a ring with <paramref name="sqEntries"/> SQEs and <paramref name="cqEntries"/> CQEs (both clamped by the kernel).</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">io_uring_setup or mmap failed.</exception>
    public IoUringRing(uint sqEntries, uint cqEntries)
    {
        Params p = default;
        p.Flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
        p.CqEntries = cqEntries;
        _fd = Setup(sqEntries, &p);
        if (_fd < 0 && Marshal.GetLastPInvokeError() == EINVAL)
        {
            // A kernel without SUBMIT_ALL or COOP_TASKRUN (before 5.18/5.19): both are optimisations.
            p = default;
            p.Flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
            p.CqEntries = cqEntries;
            _fd = Setup(sqEntries, &p);
        }

        if (_fd < 0)
        {
            throw CreateException($"io_uring_setup({sqEntries})", Marshal.GetLastPInvokeError());
        }

        Features = p.Features;
        try
        {
            _sqRingSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
            _cqRingSize = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(Cqe));
            bool single = (p.Features & IORING_FEAT_SINGLE_MMAP) != 0;
            if (single)
            {
                _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
            }

            _sqRing = Map(_sqRingSize, IORING_OFF_SQ_RING, "SQ ring");
            _cqRing = single ? _sqRing : Map(_cqRingSize, IORING_OFF_CQ_RING, "CQ ring");
            _sqesSize = p.SqEntries * (uint)sizeof(Sqe);
            _sqes = (Sqe*)Map(_sqesSize, IORING_OFF_SQES, "SQE array");
        }
        catch
        {
            Dispose();
            throw;
        }

        _sqTail = (uint*)(_sqRing + p.SqOff.Tail);
        _sqMask = *(uint*)(_sqRing + p.SqOff.RingMask);
        _sqEntries = *(uint*)(_sqRing + p.SqOff.RingEntries);
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = (Cqe*)(_cqRing + p.CqOff.Cqes);

        // The SQ array indirection is set to the identity once: SQE i is always slot i.
        uint* array = (uint*)(_sqRing + p.SqOff.Array);
        for (uint i = 0; i < _sqEntries; i++)
        {
            array[i] = i;
        }

        _sqeTail = _submitted = *_sqTail;
        _cqHeadLocal = *_cqHead;
    }

    /// <summary>The ring's descriptor.</summary>
    public int Fd => _fd;

    /// <summary>io_uring_params.features as the kernel reported them.</summary>
    public uint Features { get; }

    /// <summary>SQEs written but not yet handed to the kernel.</summary>
    public uint Unsubmitted => _sqeTail - _submitted;

    /// <summary>The position the next SQE will take; pass it to <see cref="IsUnsubmitted"/> and <see cref="At"/> later.</summary>
    public uint NextPosition => _sqeTail;

    /// <summary>Completions waiting in the CQ ring.</summary>
    public uint Ready => Volatile.Read(ref *_cqTail) - _cqHeadLocal;

    /// <summary>True while the SQE at <paramref name="position"/> is still ours to rewrite.</summary>
    public bool IsUnsubmitted(uint position) => position - _submitted < _sqeTail - _submitted;

    /// <summary>The SQE at <paramref name="position"/>.</summary>
    public Sqe* At(uint position) => &_sqes[position & _sqMask];

    /// <summary>A zeroed SQE at the tail; submits the queue first when it is full.</summary>
    /// <exception cref="InvalidOperationException">The kernel took none of a full queue (its completion queue is backed up).</exception>
    public Sqe* Next()
    {
        if (_sqeTail - _submitted == _sqEntries)
        {
            int result = Enter(0, 0, null, 0);
            if (_sqeTail - _submitted == _sqEntries)
            {
                throw new InvalidOperationException(
                    $"The io_uring submission queue is full and the kernel accepted none of it (io_uring_enter returned {result}).");
            }
        }

        Sqe* sqe = &_sqes[_sqeTail & _sqMask];
        *sqe = default;
        _sqeTail++;
        return sqe;
    }

    /// <summary>
    /// Publishes the queued SQEs and calls io_uring_enter; returns its result (the number
    /// submitted) or the negated errno. Never throws.
    /// </summary>
    public int Enter(uint minComplete, uint flags, void* argument, nuint argumentSize)
    {
        uint toSubmit = _sqeTail - _submitted;
        Volatile.Write(ref *_sqTail, _sqeTail);
        int result = IoUringInterop.Enter(_fd, toSubmit, minComplete, flags, argument, argumentSize);
        if (result < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        _submitted += Math.Min((uint)result, toSubmit);
        return result;
    }

    /// <summary>
    /// io_uring_register(2) on this ring: returns its result, or the negated errno. Never throws.
    /// </summary>
    public int Register(uint opcode, void* argument, uint count)
    {
        int result = IoUringInterop.Register(_fd, opcode, argument, count);
        return result < 0 ? -Marshal.GetLastPInvokeError() : result;
    }

    /// <summary>
    /// Takes the unconsumed completion of <paramref name="userData"/> out of turn, if it is in the
    /// CQ ring: its user_data is overwritten with all ones, which every reaper skips, and it is
    /// consumed in order with the others.
    /// </summary>
    public bool TryTakeCompletion(ulong userData, out Cqe found)
    {
        uint tail = Volatile.Read(ref *_cqTail);
        for (uint i = _cqHeadLocal; i != tail; i++)
        {
            ref Cqe cqe = ref _cqes[i & _cqMask];
            if (cqe.UserData == userData)
            {
                found = cqe;
                cqe.UserData = ulong.MaxValue;
                return true;
            }
        }

        found = default;
        return false;
    }

    /// <summary>The oldest unconsumed completion; valid until <see cref="Consume"/>.</summary>
    public ref readonly Cqe Peek() => ref _cqes[_cqHeadLocal & _cqMask];

    /// <summary>Marks the completion returned by <see cref="Peek"/> consumed.</summary>
    public void Consume()
    {
        _cqHeadLocal++;
        Volatile.Write(ref *_cqHead, _cqHeadLocal);
    }

    /// <summary>Unmaps the rings and closes the descriptor (the kernel cancels what is left). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_sqes != null)
        {
            _ = Munmap(_sqes, _sqesSize);
        }

        if (_cqRing != null && _cqRing != _sqRing)
        {
            _ = Munmap(_cqRing, _cqRingSize);
        }

        if (_sqRing != null)
        {
            _ = Munmap(_sqRing, _sqRingSize);
        }

        _ = Close(_fd);
    }

    private byte* Map(nuint size, long offset, string what)
    {
        void* address = Mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, _fd, offset);
        if (address == (void*)-1)
        {
            throw CreateException($"mmap(io_uring {what}, {size} bytes)", Marshal.GetLastPInvokeError());
        }

        return (byte*)address;
    }
}
