using System.Diagnostics;
using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

// Design note: the Linux epoll back end.
//
// Level vs edge. Registrations are level-triggered unless the owner asks for
// PollEvents.EdgeTriggered. Level-triggered is the forgiving default (the selectors/asyncio
// model): a callback that reads only part of the data is simply called again, and a
// registration can never be "lost". Edge-triggered (EPOLLET) saves the loop one epoll_ctl per
// direction change and one report per iteration for streams that are drained completely;
// it also asks for EPOLLRDHUP so a peer's half-close is an edge of its own. Core re-arms
// an edge with Modify (EPOLL_CTL_MOD re-evaluates readiness), which matches the poll(2)
// back end's emulation, so Core needs no back-end-specific code.
//
// Errors and hang-ups (EPOLLERR, EPOLLHUP, EPOLLRDHUP) are reported as Read | Write: the
// owner's next read or write observes the actual condition, as with Python's selectors.
//
// No interest. A registration whose interest is None stays in the epoll set, but the kernel
// always reports EPOLLERR and EPOLLHUP, which level-triggered would repeat on every wait and
// spin the loop. So such a registration is made edge-triggered with no directions and tagged
// in its data word; the (at most one per edge) wake-up it causes is filtered out in Poll. This
// keeps the contract of the poll(2) back end: an uninterested descriptor is never reported.
//
// Closed descriptors. The kernel drops a descriptor from the set when its last reference is
// closed, so removing it afterwards fails with EBADF (number free) or ENOENT (number reused by
// a descriptor that is not in the set); both mean "already gone" and are not errors. Core must
// still Remove before it closes when the descriptor may be dup'ed elsewhere: epoll watches the
// open file description, not the number.
//
// Tokens, not pointers. epoll_data carries a 32-bit token that Core maps to its registration
// table. A GCHandle or pointer would need pinning and explicit lifetime management, and an event
// already queued in the kernel for a registration that was removed in the same iteration would
// then dereference freed state; a token is just looked up and checked, so a stale one is harmless.
internal sealed unsafe class EpollPoller : IPoller
{
    // 64: one page-ish of events; Poll doubles it (up to 4096) whenever a call fills it,
    // so a busy loop converges on one epoll_wait per iteration.
    private const int InitialCapacity = 64;
    private const int MaxCapacity = 4096;

    // Set in the upper half of epoll_data (the token uses the lower 32 bits) for registrations
    // with no interest; see the design note.
    private const ulong NoInterestTag = 1UL << 32;

    private int _epfd;
    private byte[] _buffer;
    private int _capacity;

    /// <summary>Creates an epoll instance (close-on-exec).</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">epoll_create1 failed (e.g. EMFILE).</exception>
    public EpollPoller()
    {
        _epfd = EpollCreate1(EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw CreateException("epoll_create1(EPOLL_CLOEXEC)", Marshal.GetLastPInvokeError());
        }

        _capacity = InitialCapacity;
        _buffer = GC.AllocateUninitializedArray<byte>(_capacity * EpollEventSize, pinned: true);
    }

    public PollerKind Kind => PollerKind.Epoll;

    public int Handle => _epfd;

    public bool NativeEdgeTriggered => true;

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is already registered.</exception>
    public void Add(int fd, PollEvents events, int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (Control(EPOLL_CTL_ADD, fd, events, token) is int errno and not 0)
        {
            if (errno == EEXIST)
            {
                throw new InvalidOperationException($"Descriptor {fd} is already registered with this epoll instance.");
            }

            throw CreateException($"epoll_ctl(EPOLL_CTL_ADD, fd {fd})", errno);
        }
    }

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is not registered.</exception>
    public void Modify(int fd, PollEvents events, int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (Control(EPOLL_CTL_MOD, fd, events, token) is int errno and not 0)
        {
            if (errno == ENOENT)
            {
                throw new InvalidOperationException($"Descriptor {fd} is not registered with this epoll instance.");
            }

            throw CreateException($"epoll_ctl(EPOLL_CTL_MOD, fd {fd})", errno);
        }
    }

    public void Remove(int fd)
    {
        if (fd < 0)
        {
            return;
        }

        if (Control(EPOLL_CTL_DEL, fd, PollEvents.None, 0) is int errno and not 0 and not EBADF and not ENOENT)
        {
            throw CreateException($"epoll_ctl(EPOLL_CTL_DEL, fd {fd})", errno);
        }
    }

    /// <exception cref="ArgumentException"><paramref name="ready"/> is empty.</exception>
    public int Poll(ReadyEvent[] ready, int timeoutMs)
    {
        ObjectDisposedException.ThrowIf(_epfd < 0, this);
        if (ready.Length == 0)
        {
            throw new ArgumentException("The ready buffer must have room for at least one event.", nameof(ready));
        }

        int max = Math.Min(ready.Length, _capacity);
        long start = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        int remaining = timeoutMs;
        int count;
        int written = 0;
        fixed (byte* buffer = _buffer)
        {
            while ((count = EpollWait(_epfd, buffer, max, remaining)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw CreateException($"epoll_wait(epfd {_epfd})", errno);
                }

                remaining = PollTimeout.Remaining(timeoutMs, start);
            }

            for (int i = 0; i < count; i++)
            {
                (uint events, ulong data) = ReadEvent(buffer, i);
                if ((data & NoInterestTag) == 0)
                {
                    ready[written++] = new ReadyEvent((int)(uint)data, Translate(events));
                }
            }
        }

        // A full buffer means more may be ready; grow for the next call (never per call: the
        // array is replaced only on these doublings).
        if (count == _capacity && _capacity < MaxCapacity && ready.Length > _capacity)
        {
            _capacity *= 2;
            _buffer = GC.AllocateUninitializedArray<byte>(_capacity * EpollEventSize, pinned: true);
        }

        return written;
    }

    /// <summary>Closes the epoll descriptor. Idempotent.</summary>
    public void Dispose()
    {
        int epfd = _epfd;
        _epfd = -1;
        if (epfd >= 0)
        {
            _ = Close(epfd);
        }
    }

    private static uint ToEpoll(PollEvents events)
    {
        uint flags = 0;
        if ((events & PollEvents.Read) != 0)
        {
            flags |= EPOLLIN;
        }

        if ((events & PollEvents.Write) != 0)
        {
            flags |= EPOLLOUT;
        }

        if ((events & PollEvents.EdgeTriggered) != 0 || flags == 0)
        {
            flags |= EPOLLET | EPOLLRDHUP;
        }

        return flags;
    }

    private static IoEvents Translate(uint events)
    {
        if ((events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0)
        {
            return IoEvents.Read | IoEvents.Write;
        }

        var result = IoEvents.None;
        if ((events & (EPOLLIN | EPOLLPRI)) != 0)
        {
            result |= IoEvents.Read;
        }

        if ((events & EPOLLOUT) != 0)
        {
            result |= IoEvents.Write;
        }

        return result;
    }

    private static (uint Events, ulong Data) ReadEvent(byte* buffer, int index)
    {
        if (EpollEventIsPacked)
        {
            EpollEventPacked e = ((EpollEventPacked*)buffer)[index];
            return (e.Events, e.Data);
        }

        EpollEventAligned a = ((EpollEventAligned*)buffer)[index];
        return (a.Events, a.Data);
    }

    // Returns 0 or the errno of the failed epoll_ctl.
    private int Control(int op, int fd, PollEvents events, int token)
    {
        ObjectDisposedException.ThrowIf(_epfd < 0, this);
        uint flags = ToEpoll(events);
        ulong data = (uint)token | ((events & (PollEvents.Read | PollEvents.Write)) == 0 ? NoInterestTag : 0);
        int result;
        if (EpollEventIsPacked)
        {
            var ev = new EpollEventPacked { Events = flags, Data = data };
            result = EpollCtl(_epfd, op, fd, &ev);
        }
        else
        {
            var ev = new EpollEventAligned { Events = flags, Data = data };
            result = EpollCtl(_epfd, op, fd, &ev);
        }

        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
