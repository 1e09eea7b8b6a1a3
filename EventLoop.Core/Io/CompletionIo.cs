using System.Buffers;
using System.Runtime.InteropServices;
using EventLoop.Internal;
using EventLoop.Polling;
using static EventLoop.Interop.Libc;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop;

/// <summary>
/// Completion-based I/O through the loop's io_uring ring, for drivers: a request (receive, send, accept)
/// is written to the submission queue, the loop's one <c>io_uring_enter</c> per iteration submits
/// it together with everything else, and its result is reported to an
/// <see cref="ICompletionHandler"/> inside the poll phase, like readiness to an
/// <see cref="IReadinessHandler"/>. Obtained from <see cref="Loop.CompletionIo"/>, which is null
/// unless the loop runs on the io_uring back end with the opcodes this needs. Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// The pattern, the completion twin of <see cref="ReadinessWatch"/>: a driver keeps one
/// <see cref="CompletionRequest"/> per direction (from <see cref="CreateRequest"/>, reusable), and
/// a <see cref="LoopWaitSource{TResult}"/> for the awaiting side. It calls
/// <see cref="LoopWaitSource{TResult}.Begin"/>; when that returns true it submits
/// (<see cref="CompletionRequest.Receive"/>, <see cref="CompletionRequest.Send"/>); the handler
/// completes the wait with the result. In <c>OnCompleting</c> (a kill, a deadline, the token, or
/// a close won the race) it calls <see cref="CompletionRequest.TryCancel"/>, which ends the request
/// before it returns, so the caller's buffer is free and the descriptor may be closed as soon as the
/// wait is over; a receive that completed in the meantime reports its byte count there, so the
/// driver can keep the data for the next read instead of losing it.
/// </para>
/// <para>
/// Memory: the buffer is pinned (<see cref="Memory{T}.Pin"/>) from submission until the request
/// completes or is cancelled. Descriptors: a request holds no reference on the
/// <see cref="SafeHandle"/> (as for <see cref="ReadinessWatch"/>); cancel what is in flight before
/// closing it. An unsubmitted request is withdrawn without a system call; a submitted one is
/// cancelled with <c>IORING_REGISTER_SYNC_CANCEL</c> (one system call, on the abort path only).
/// </para>
/// <para>
/// Results are the kernel's: a byte count (0 for a receive at end of stream), a new descriptor
/// (an accept), or a negated errno (<c>-104</c> for ECONNRESET, <c>-32</c> for EPIPE; sends pass
/// <c>MSG_NOSIGNAL</c> and <c>MSG_WAITALL</c>). A descriptor an accept made that no handler can be
/// told of (the loop is disposed with the request in flight) is closed here.
/// A request in flight keeps the loop polling only while something else is registered with it
/// (a socket's <see cref="ReadinessWatch"/> is).
/// </para>
/// </remarks>
public sealed unsafe class CompletionIo
{
    // user_data of a request: sequence << 32 | SlotTag | slot. The poller's own requests carry a
    // descriptor (bit 31 clear) or all ones; bit 31 set and not all ones is ours.
    internal const uint SlotTag = 0x8000_0000;
    private const int MaxSlots = 0x7FFF_FFFE;

    // The receive pool: 1,024 buffers of 4 KiB (4 MiB of native memory, touched as the kernel
    // cycles through them), registered on first use as buffer group 0.
    private const int PoolBuffers = 1024;
    private const int PoolBufferSize = 4096;
    private const ushort PoolGroup = 0;

    private readonly IoUringRing _ring;
    private readonly byte _nopFlags;
    private IoUringBufferRing? _pool;
    private bool _poolTried;
    private bool _closed;
    private Slot[] _slots = new Slot[16];
    private int _slotCount;
    private int _freeSlot = -1;
    private int _inFlight;

    internal CompletionIo(Loop loop, IoUringRing ring, byte nopFlags)
    {
        Loop = loop;
        _ring = ring;
        _nopFlags = nopFlags;
    }

    /// <summary>The loop whose ring carries the requests.</summary>
    public Loop Loop { get; }

    /// <summary>Requests submitted (or queued for submission) and not yet completed or cancelled.</summary>
    public int InFlight => _inFlight;

    /// <summary>
    /// True when <see cref="CompletionRequest.ReceivePooled"/> works: the loop's pool of receive
    /// buffers (a registered provided-buffer ring, 5.19) could be set up. The first read sets it
    /// up (1,024 buffers of 4 KiB). Loop thread.
    /// </summary>
    public bool CanReceivePooled => Pool is not null;

    /// <summary>The receive pool, registered on first use; null where the kernel refuses it.</summary>
    internal IoUringBufferRing? Pool
    {
        get
        {
            if (!_poolTried && !_closed)
            {
                _poolTried = true;
                _pool = IoUringBufferRing.TryCreate(_ring, PoolGroup, PoolBuffers, PoolBufferSize);
            }

            return _closed ? null : _pool;
        }
    }

    /// <summary>
    /// Hands every queued request to the kernel now (one <c>io_uring_enter</c>) instead of at the
    /// loop's next poll; nothing, and no system call, when nothing is queued. For a driver that
    /// must know the kernel has a request before it goes on: before closing a descriptor a queued
    /// request names, or before a system call that must observe a queued send. Loop thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    public void Submit()
    {
        VerifyAccess();
        if (!_closed && _ring.Unsubmitted != 0)
        {
            _ = _ring.Enter(0, 0, null, 0);
        }
    }

    /// <summary>Creates a reusable request whose completions go to <paramref name="handler"/>. Loop thread.</summary>
    /// <param name="handler">Told the result of each completed request, inside the poll phase.</param>
    /// <returns>The request; nothing is submitted yet.</returns>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    public CompletionRequest CreateRequest(ICompletionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        VerifyAccess();
        return new CompletionRequest(this, handler);
    }

    /// <summary>Queues one SQE for <paramref name="request"/>; the buffer is pinned until it ends.</summary>
    internal void Submit(CompletionRequest request, byte opcode, SafeHandle handle, MemoryHandle pin, uint length, uint messageFlags, bool pooled = false, bool multishot = false, ushort ioPriority = 0)
    {
        int slot = -1;
        try
        {
            VerifyAccess();
            if (handle.IsClosed || handle.IsInvalid)
            {
                ThrowHelper.ThrowObjectDisposed(handle.GetType().Name);
            }

            slot = AcquireSlot();
            ref Slot entry = ref _slots[slot];
            if (++entry.Sequence == 0)
            {
                entry.Sequence = 1;
            }

            ulong userData = ((ulong)entry.Sequence << 32) | SlotTag | (uint)slot;
            uint position = _ring.NextPosition;
            Sqe* sqe = _ring.Next();
            sqe->Opcode = opcode;
            sqe->Fd = (int)handle.DangerousGetHandle();
            sqe->Address = (ulong)pin.Pointer;
            sqe->Length = length;
            sqe->OpFlags = messageFlags;
            sqe->UserData = userData;
            if (pooled)
            {
                // A pooled receive is a wait for data that is not there yet: the kernel arms its
                // poll at once instead of trying the receive first (5.19, as the pool itself).
                sqe->Flags = IOSQE_BUFFER_SELECT;
                sqe->BufferIndex = PoolGroup;
                sqe->IoPriority = (ushort)(IORING_RECVSEND_POLL_FIRST | (multishot ? IORING_RECV_MULTISHOT : 0));
            }
            else
            {
                sqe->IoPriority = ioPriority;
            }

            entry.Request = request;
            entry.Accept = opcode == IORING_OP_ACCEPT;
            entry.Pin = pin;
            entry.Position = position;
            entry.Live = true;
            request.OnSubmitted(slot, userData);
            _inFlight++;
        }
        catch
        {
            if (slot >= 0)
            {
                FreeSlot(slot);
            }

            pin.Dispose();
            throw;
        }
    }

    /// <summary>Whether the request in <paramref name="slot"/> is still queued, not yet handed to the kernel.</summary>
    internal bool IsQueued(int slot) => _ring.IsUnsubmitted(_slots[slot].Position);

    /// <summary>Ends <paramref name="request"/>'s request in flight before returning (see <see cref="CompletionRequest.TryCancel"/>).</summary>
    internal int Cancel(CompletionRequest request, int slot, ulong userData)
    {
        ref Slot entry = ref _slots[slot];
        if (_ring.IsUnsubmitted(entry.Position))
        {
            // Still ours: the kernel never sees it (and never the descriptor number).
            Withdraw(entry.Position);
            Release(slot);
            return -ECANCELED;
        }

        var cancel = new SyncCancelReg { Address = userData, Fd = -1 };
        cancel.Timeout.Seconds = -1;
        cancel.Timeout.Nanoseconds = -1;
        int result;
        do
        {
            result = _ring.Register(IORING_REGISTER_SYNC_CANCEL, &cancel, 1);
        }
        while (result == -EINTR);

        if (result < 0 && result != -ENOENT)
        {
            // Not cancelled synchronously (cannot happen where the probe passed): ask
            // asynchronously and keep the buffer pinned until the request's completion arrives.
            Sqe* sqe = _ring.Next();
            sqe->Opcode = IORING_OP_ASYNC_CANCEL;
            sqe->Fd = -1;
            sqe->Address = userData;
            sqe->Flags = _nopFlags;
            sqe->UserData = ulong.MaxValue;
            entry.Request = null; // orphaned: Dispatch unpins and frees it
            _inFlight--;
            request.OnEnded();
            return -ECANCELED;
        }

        // The request has ended: its completion (the result, or -ECANCELED) was posted before
        // the system call returned to user mode. Take it now, out of turn.
        // A multishot receive may have posted several: the data ones go to the request's
        // pooled buffers, the last one (no IORING_CQE_F_MORE) is the outcome. A multishot
        // accept's earlier ones are descriptors: the handler is told them here, so none is lost.
        int outcome = -ECANCELED;
        bool accept = entry.Accept; // read now: a handler told below may grow the slot table
        while (_ring.TryTakeCompletion(userData, out Cqe found))
        {
            TakeBuffer(request, in found);
            if ((found.Flags & IORING_CQE_F_MORE) == 0)
            {
                outcome = found.Result;
                break;
            }

            if (accept)
            {
                Report(request, found.Result);
            }
        }

        Release(slot);
        return outcome;
    }

    /// <summary>A completion whose user_data carries <see cref="SlotTag"/>. Poll phase.</summary>
    internal void Dispatch(in Cqe cqe)
    {
        int slot = (int)((uint)cqe.UserData & ~SlotTag);
        uint sequence = (uint)(cqe.UserData >> 32);
        if ((uint)slot >= (uint)_slotCount || !_slots[slot].Live || _slots[slot].Sequence != sequence)
        {
            // Cancelled synchronously, its completion not found then (it overflowed the ring):
            // only a pool buffer it may carry is still to give back, or a descriptor an accept
            // made to close.
            ReturnCarriedBuffer(in cqe);
            if ((uint)slot < (uint)_slotCount && _slots[slot].Sequence == sequence && _slots[slot].Accept)
            {
                CloseAccepted(cqe.Result);
            }

            return;
        }

        CompletionRequest? request = _slots[slot].Request;
        if (request is null)
        {
            // An orphan of an asynchronous cancel: the kernel is done with the buffer now.
            _slots[slot].Pin.Dispose();
            FreeSlot(slot);
            ReturnCarriedBuffer(in cqe);
            if (_slots[slot].Accept)
            {
                CloseAccepted(cqe.Result);
            }

            return;
        }

        TakeBuffer(request, in cqe);
        if ((cqe.Flags & IORING_CQE_F_MORE) == 0)
        {
            Release(slot);
        }

        Report(request, cqe.Result);
    }

    /// <summary>
    /// The ring is closing: every request is cancelled (and waited for) by the caller first; the
    /// buffers are unpinned here.
    /// </summary>
    internal void ReleaseAll()
    {
        WithdrawUnsubmitted();
        for (int i = 0; i < _slotCount; i++)
        {
            if (_slots[i].Live)
            {
                if (_slots[i].Accept)
                {
                    // Connections the kernel accepted that nobody will be told about.
                    ulong userData = ((ulong)_slots[i].Sequence << 32) | SlotTag | (uint)i;
                    while (_ring.TryTakeCompletion(userData, out Cqe found))
                    {
                        CloseAccepted(found.Result);
                    }
                }

                CompletionRequest? request = _slots[i].Request;
                _slots[i].Pin.Dispose();
                _slots[i] = default;
                request?.OnEnded();
            }
        }

        _inFlight = 0;
    }

    /// <summary>
    /// Turns every request still in the submission queue into a NOP (the loop is closing: the
    /// descriptors they name may be closed already, and their numbers reused).
    /// </summary>
    internal void WithdrawUnsubmitted()
    {
        for (int i = 0; i < _slotCount; i++)
        {
            if (_slots[i].Live && _ring.IsUnsubmitted(_slots[i].Position))
            {
                Withdraw(_slots[i].Position);
            }
        }
    }

    /// <summary>Gives buffer <paramref name="id"/> back to the pool (nothing once the ring is closed).</summary>
    internal void ReturnBuffer(ushort id)
    {
        if (!_closed)
        {
            _pool?.Return(id);
        }
    }

    /// <summary>The ring is closed: no buffer may be read or returned any more; frees the pool.</summary>
    internal void Close()
    {
        _closed = true;
        _pool?.Dispose();
        _pool = null;
    }

    internal void VerifyAccess()
    {
        if (!Loop.CheckAccess())
        {
            ThrowHelper.ThrowWrongThread(nameof(CompletionIo));
        }
    }

    // Turns the unsubmitted SQE at position into a NOP whose completion nobody reads.
    private void Withdraw(uint position)
    {
        Sqe* queued = _ring.At(position);
        *queued = default;
        queued->Opcode = IORING_OP_NOP;
        queued->Fd = -1;
        queued->Flags = _nopFlags;
        queued->UserData = ulong.MaxValue;
    }

    private void Report(CompletionRequest request, int result)
    {
        // Handlers run in the poll phase, outside the ready phase: a blocked-loop monitor must see
        // them, and the slow-callback report time them. (A synchronous cancel may also report
        // from inside the ready phase: covered there.)
        bool observed = Loop.ObservesOutsideCalls;
        long started = observed ? Loop.BeginOutsideCall(request.Handler) : 0;
        try
        {
            request.Handler.OnCompleted(request, result);
        }
        catch (Exception ex)
        {
            Loop.ReportUnhandled(ex, null);
        }
        finally
        {
            if (observed)
            {
                Loop.EndOutsideCall(request.Handler, started);
            }
        }
    }

    private static void CloseAccepted(int result)
    {
        if (result >= 0)
        {
            _ = EventLoop.Interop.Libc.Close(result);
        }
    }

    private void ReturnCarriedBuffer(in Cqe cqe)
    {
        if ((cqe.Flags & IORING_CQE_F_BUFFER) != 0)
        {
            ReturnBuffer((ushort)(cqe.Flags >> IORING_CQE_BUFFER_SHIFT));
        }
    }

    // A completion that carries a pool buffer: data goes to the request, an empty one straight back.
    private void TakeBuffer(CompletionRequest request, in Cqe cqe)
    {
        if ((cqe.Flags & IORING_CQE_F_BUFFER) == 0)
        {
            return;
        }

        var id = (ushort)(cqe.Flags >> IORING_CQE_BUFFER_SHIFT);
        if (cqe.Result > 0)
        {
            request.OnPooledReceived(id, cqe.Result);
        }
        else
        {
            ReturnBuffer(id);
        }
    }

    private void Release(int slot)
    {
        ref Slot entry = ref _slots[slot];
        CompletionRequest? request = entry.Request;
        entry.Pin.Dispose();
        FreeSlot(slot);
        _inFlight--;
        request?.OnEnded();
    }

    private int AcquireSlot()
    {
        if (_freeSlot >= 0)
        {
            int free = _freeSlot;
            _freeSlot = _slots[free].NextFree;
            return free;
        }

        if (_slotCount == _slots.Length)
        {
            if (_slotCount >= MaxSlots)
            {
                ThrowHelper.ThrowInvalidOperation("Too many io_uring requests in flight.");
            }

            Array.Resize(ref _slots, _slots.Length * 2);
        }

        return _slotCount++;
    }

    private void FreeSlot(int slot)
    {
        ref Slot entry = ref _slots[slot];
        entry.Request = null;
        entry.Pin = default;
        entry.Live = false; // Sequence and Accept stay: a late completion of it is recognised
        entry.NextFree = _freeSlot;
        _freeSlot = slot;
    }

    private struct Slot
    {
        public CompletionRequest? Request;
        public MemoryHandle Pin;
        public uint Sequence;   // of the current (or last) request in this slot
        public uint Position;   // where its SQE was queued
        public bool Live;
        public bool Accept;     // an IORING_OP_ACCEPT: a non-negative result is a descriptor
        public int NextFree;
    }
}
