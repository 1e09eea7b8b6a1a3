using System.Diagnostics;
using static EventLoop.Interop.Libc;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop.Polling;

// Design note: the io_uring back end, readiness through the ring.
//
// Every registration is one IORING_OP_POLL_ADD request whose user_data is the descriptor (low
// 32 bits) and a request sequence number (high 32 bits). A completion whose sequence is not the
// descriptor's current one belongs to a request that was removed or replaced (its -ECANCELED
// completion, or a multishot report that raced the removal) and is dropped, so Modify and
// Remove never have to wait for the kernel.
//
// Edge-triggered registrations are multishot polls (IORING_POLL_ADD_MULTI): the kernel posts a
// completion on every wake-up of the file's wait queue that matches the interest, and the
// request stays armed, exactly the report-every-edge contract of EPOLLET; so
// NativeEdgeTriggered is true and Core never re-arms. A new multishot poll reports at once when
// the descriptor is ready at arm time, which gives Modify epoll's "re-evaluate readiness". When
// the kernel ends a multishot poll on its own (a completion without IORING_CQE_F_MORE, e.g. a
// full completion queue), it is re-armed, so no edge is lost.
//
// Level-triggered registrations are one-shot polls re-armed after each report: the new request
// is queued when the report is reaped and submitted by the next Poll's io_uring_enter, where it
// completes at once if the descriptor is still ready. Costs an SQE per report but no system call.
//
// No interest means no request at all, so an uninterested descriptor is never reported (the
// contract epoll needs a tag and poll(2) a negative fd for).
//
// Batching. Add and Modify only write SQEs; Poll submits them and waits in the same
// io_uring_enter (GETEVENTS, min_complete 1, the timeout as an EXT_ARG timespec), and skips the
// system call entirely when completions are already waiting and nothing needs submitting. An
// SQE not yet submitted is still ours: Remove turns it into a NOP, so a descriptor that is closed
// (and its number reused) before the next Poll is never polled by accident.
//
// Closing. A poll request holds a reference to the file, so a closed socket with a live request
// would stay open (no FIN to the peer) until the request ends. Remove therefore cancels with
// IORING_OP_POLL_REMOVE and submits at once, like epoll_ctl(DEL); Core calls it for this back end
// even when the descriptor is already closed. Dispose cancels every request before closing the ring.
//
// Errors and hang-ups (POLLERR, POLLHUP, POLLRDHUP, or a failed request such as -EBADF) are
// reported as Read | Write. A failed request is not re-armed: Core's next system call on the
// descriptor sees the error, as with poll(2)'s POLLNVAL.
//
// Completion requests. The same ring carries the receives and sends of Loop.CompletionIo
// (Io/CompletionIo.cs): their user_data has bit 31 of the low word set (a slot, not a
// descriptor) and a per-slot sequence in the high word, and Poll hands their completions to
// CompletionIo.Dispatch, which calls the driver's handler in place; they take no room in the
// ready buffer. They are submitted by the same io_uring_enter as everything else. Dispose waits
// for them (IORING_REGISTER_SYNC_CANCEL of every request) before the buffers are unpinned.
//
// The wait is one io_uring_enter per iteration, like epoll_wait; Handle is -1 because re-arms are
// submitted inside Poll, so a host loop must drive this back end with RunOnce and GetPollTimeout.
internal sealed unsafe class IoUringPoller : IPoller
{
    // 1024 SQEs: a burst of registrations is submitted in one call; more just flushes early.
    // 8192 CQEs: room for a report from every one of thousands of sockets between two Polls.
    private const uint SqEntries = 1024;
    private const uint CqEntries = 8192;

    /// <summary>Set to 0 to keep <see cref="Loop.CompletionIo"/> null on this back end (readiness only).</summary>
    internal const string CompletionIoVariable = "EVENTLOOP_COMPLETION_IO";

    private const ulong InternalUserData = ulong.MaxValue;
    private const uint PollIn = 0x001;
    private const uint PollPri = 0x002;
    private const uint PollOut = 0x004;
    private const uint PollErr = 0x008;
    private const uint PollHup = 0x010;
    private const uint PollRdHup = 0x2000;

    private readonly IoUringRing _ring;
    private readonly byte _removeFlags;
    private Entry[] _entries = new Entry[64];
    private uint _nextSequence;
    private int _batch;
    private bool _disposed;
    private CompletionIo? _completions;

    /// <summary>Sets up a ring (close-on-exec, as every io_uring descriptor is).</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">io_uring_setup or mmap failed.</exception>
    public IoUringPoller()
    {
        _ring = new IoUringRing(SqEntries, CqEntries);
        _removeFlags = (_ring.Features & IORING_FEAT_CQE_SKIP) != 0 ? IOSQE_CQE_SKIP_SUCCESS : (byte)0;
    }

    public PollerKind Kind => PollerKind.IoUring;

    public int Handle => -1;

    public bool NativeEdgeTriggered => true;

    /// <summary>
    /// Completion-based I/O on this ring for <paramref name="loop"/> (created once), or null when
    /// the kernel lacks IORING_OP_RECV/SEND or IORING_REGISTER_SYNC_CANCEL (before 6.0).
    /// </summary>
    internal CompletionIo? EnableCompletions(Loop loop)
    {
        if (_completions is null && !_disposed && SupportsCompletions())
        {
            _completions = new CompletionIo(loop, _ring, _removeFlags);
        }

        return _completions;
    }

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is already registered.</exception>
    public void Add(int fd, PollEvents events, int token)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (fd >= _entries.Length)
        {
            Array.Resize(ref _entries, Math.Max(fd + 1, _entries.Length * 2));
        }

        ref Entry entry = ref _entries[fd];
        if (entry.Registered)
        {
            throw new InvalidOperationException($"Descriptor {fd} is already registered with this io_uring poller.");
        }

        entry = new Entry { Registered = true, Token = token, Interest = events };
        Arm(fd, ref entry);
    }

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is not registered.</exception>
    public void Modify(int fd, PollEvents events, int token)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)fd >= (uint)_entries.Length || !_entries[fd].Registered)
        {
            throw new InvalidOperationException($"Descriptor {fd} is not registered with this io_uring poller.");
        }

        ref Entry entry = ref _entries[fd];
        bool level = (events & PollEvents.EdgeTriggered) == 0;
        if (level && entry.Sequence != 0 && events == entry.Interest && !_ring.IsUnsubmitted(entry.Position))
        {
            // A pending one-shot poll with the same interest already reports the next readiness.
            entry.Token = token;
            return;
        }

        Cancel(fd, ref entry);
        entry.Token = token;
        entry.Interest = events;
        Arm(fd, ref entry);
    }

    public void Remove(int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)fd >= (uint)_entries.Length || !_entries[fd].Registered)
        {
            return;
        }

        ref Entry entry = ref _entries[fd];
        bool inKernel = entry.Sequence != 0 && !_ring.IsUnsubmitted(entry.Position);
        Cancel(fd, ref entry);
        entry = default;
        if (inKernel)
        {
            // Submit now: the request's file reference must go before the owner closes the fd.
            _ = _ring.Enter(0, 0, null, 0);
        }
    }

    /// <exception cref="ArgumentException"><paramref name="ready"/> is empty.</exception>
    public int Poll(ReadyEvent[] ready, int timeoutMs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ready.Length == 0)
        {
            throw new ArgumentException("The ready buffer must have room for at least one event.", nameof(ready));
        }

        if (_ring.Unsubmitted != 0 || _ring.Ready == 0)
        {
            Wait(timeoutMs);
        }

        if (++_batch == 0)
        {
            _batch = 1; // 0 is a fresh entry's "never reported"
        }

        int written = 0;
        while (written < ready.Length && _ring.Ready != 0)
        {
            Cqe cqe = _ring.Peek();
            _ring.Consume();
            Complete(cqe, ready, ref written);
        }

        return written;
    }

    /// <summary>Cancels every request, then closes the ring. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _completions?.WithdrawUnsubmitted();
            if (_completions is { InFlight: > 0 })
            {
                // Wait until the kernel lets go of every buffer before unpinning them.
                var every = new SyncCancelReg { Fd = -1, Flags = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY };
                every.Timeout.Seconds = -1;
                every.Timeout.Nanoseconds = -1;
                while (_ring.Register(IORING_REGISTER_SYNC_CANCEL, &every, 1) == -EINTR)
                {
                }
            }

            _completions?.ReleaseAll();
            Sqe* sqe = _ring.Next();
            sqe->Opcode = IORING_OP_ASYNC_CANCEL;
            sqe->Fd = -1;
            sqe->OpFlags = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY;
            sqe->UserData = InternalUserData;
            // The cancelled polls drop their file references before this call returns to user mode.
            _ = _ring.Enter(0, 0, null, 0);
        }
        finally
        {
            _ring.Dispose();
            _completions?.Close();
            _entries = [];
        }
    }

    private void Wait(int timeoutMs)
    {
        long start = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        int remaining = timeoutMs;
        while (true)
        {
            int result;
            if (remaining == 0 || _ring.Ready != 0)
            {
                // Submit, and let the kernel run pending completion work, without blocking.
                result = _ring.Enter(0, IORING_ENTER_GETEVENTS, null, 0);
            }
            else if (remaining < 0)
            {
                result = _ring.Enter(1, IORING_ENTER_GETEVENTS, null, 0);
            }
            else
            {
                var timespec = new KernelTimespec { Seconds = remaining / 1000, Nanoseconds = remaining % 1000 * 1_000_000L };
                var argument = new GetEventsArg { Timespec = (ulong)&timespec };
                result = _ring.Enter(1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &argument, (nuint)sizeof(GetEventsArg));
            }

            if (result >= 0 || result == -ETIME || result == -EBUSY)
            {
                // EBUSY: completions are backed up in the kernel; reaping them makes room.
                return;
            }

            if (result != -EINTR)
            {
                throw CreateException($"io_uring_enter(ring {_ring.Fd})", -result);
            }

            remaining = PollTimeout.Remaining(timeoutMs, start);
        }
    }

    private void Complete(in Cqe cqe, ReadyEvent[] ready, ref int written)
    {
        if (cqe.UserData == InternalUserData)
        {
            return;
        }

        if (((uint)cqe.UserData & CompletionIo.SlotTag) != 0)
        {
            _completions?.Dispatch(cqe);
            return;
        }

        int fd = (int)(uint)cqe.UserData;
        uint sequence = (uint)(cqe.UserData >> 32);
        if ((uint)fd >= (uint)_entries.Length || _entries[fd].Sequence != sequence || sequence == 0)
        {
            return; // a removed or replaced request
        }

        ref Entry entry = ref _entries[fd];
        bool finished = (cqe.Flags & IORING_CQE_F_MORE) == 0;
        if (finished)
        {
            entry.Sequence = 0;
        }

        if (cqe.Result == -ECANCELED && finished)
        {
            // Ended by the kernel, not by us (we never wait for our own cancellations): re-arm.
            Arm(fd, ref entry);
            return;
        }

        IoEvents events = cqe.Result < 0 ? IoEvents.Read | IoEvents.Write : Translate((uint)cqe.Result);
        if (events != IoEvents.None)
        {
            if (entry.Batch == _batch)
            {
                // One descriptor, one event per Poll: merge a second report into the first.
                ready[entry.BatchIndex] = new ReadyEvent(entry.Token, ready[entry.BatchIndex].Events | events);
            }
            else
            {
                entry.Batch = _batch;
                entry.BatchIndex = written;
                ready[written++] = new ReadyEvent(entry.Token, events);
            }
        }

        if (finished && cqe.Result >= 0)
        {
            Arm(fd, ref entry);
        }
    }

    // Queues the POLL_ADD for the entry's interest (nothing when it has none).
    private void Arm(int fd, ref Entry entry)
    {
        uint mask = 0;
        if ((entry.Interest & PollEvents.Read) != 0)
        {
            mask |= PollIn | PollRdHup;
        }

        if ((entry.Interest & PollEvents.Write) != 0)
        {
            mask |= PollOut;
        }

        if (mask == 0)
        {
            return;
        }

        if (++_nextSequence == 0)
        {
            _nextSequence = 1;
        }

        entry.Sequence = _nextSequence;
        entry.Position = _ring.NextPosition;
        Sqe* sqe = _ring.Next();
        sqe->Opcode = IORING_OP_POLL_ADD;
        sqe->Fd = fd;
        sqe->OpFlags = mask;
        sqe->Length = (entry.Interest & PollEvents.EdgeTriggered) != 0 ? IORING_POLL_ADD_MULTI : 0;
        sqe->UserData = ((ulong)entry.Sequence << 32) | (uint)fd;
    }

    // Ends the entry's current request: a queued SQE becomes a NOP, a submitted one gets a POLL_REMOVE.
    private void Cancel(int fd, ref Entry entry)
    {
        if (entry.Sequence == 0)
        {
            return;
        }

        if (_ring.IsUnsubmitted(entry.Position))
        {
            Sqe* queued = _ring.At(entry.Position);
            *queued = default;
            queued->Opcode = IORING_OP_NOP;
            queued->Fd = -1;
            queued->Flags = _removeFlags;
            queued->UserData = InternalUserData;
        }
        else
        {
            ulong target = ((ulong)entry.Sequence << 32) | (uint)fd;
            Sqe* sqe = _ring.Next();
            sqe->Opcode = IORING_OP_POLL_REMOVE;
            sqe->Fd = -1;
            sqe->Flags = _removeFlags;
            sqe->Address = target;
            sqe->UserData = InternalUserData;
        }

        entry.Sequence = 0;
    }

    // RECV and SEND (5.6) in IORING_REGISTER_PROBE, and IORING_REGISTER_SYNC_CANCEL (6.0): a
    // cancellation of a user_data nobody uses answers ENOENT where it exists, EINVAL where not.
    private bool SupportsCompletions()
    {
        if (Environment.GetEnvironmentVariable(CompletionIoVariable) is "0" or "false" or "off")
        {
            return false;
        }

        const int OpCount = 256;
        int size = sizeof(ProbeHeader) + (OpCount * sizeof(ProbeOp));
        byte* probe = stackalloc byte[size];
        new Span<byte>(probe, size).Clear();
        if (_ring.Register(IORING_REGISTER_PROBE, probe, OpCount) < 0)
        {
            return false;
        }

        var header = (ProbeHeader*)probe;
        var ops = (ProbeOp*)(probe + sizeof(ProbeHeader));
        foreach (byte op in (ReadOnlySpan<byte>)[IORING_OP_RECV, IORING_OP_SEND])
        {
            if (op >= header->OpsLength || (ops[op].Flags & IO_URING_OP_SUPPORTED) == 0)
            {
                return false;
            }
        }

        var nobody = new SyncCancelReg { Address = InternalUserData - 1, Fd = -1 };
        int result = _ring.Register(IORING_REGISTER_SYNC_CANCEL, &nobody, 1);
        return result == 0 || result == -ENOENT;
    }

    private static IoEvents Translate(uint mask)
    {
        if ((mask & (PollErr | PollHup | PollRdHup)) != 0)
        {
            return IoEvents.Read | IoEvents.Write;
        }

        var result = IoEvents.None;
        if ((mask & (PollIn | PollPri)) != 0)
        {
            result |= IoEvents.Read;
        }

        if ((mask & PollOut) != 0)
        {
            result |= IoEvents.Write;
        }

        return result;
    }

    private struct Entry
    {
        public bool Registered;
        public int Token;
        public PollEvents Interest;
        public uint Sequence;   // the live request's, 0 when none
        public uint Position;   // where its POLL_ADD was queued in the SQ
        public int Batch;       // the Poll call that last reported it...
        public int BatchIndex;  // ...and where in the caller's buffer
    }
}
