using System.Diagnostics;
using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

// Design note: the portable poll(2) back end, and the readable reference for the others.
//
// State is one pollfd array handed to the kernel as is, a parallel array of entries (real fd,
// token, interest) and an fd -> index map. Removal swaps the last entry into the hole, so both
// arrays stay dense and Remove is O(1).
//
// Level-triggered is native. Edge-triggered is emulated as one-shot: every direction that is
// reported for an EdgeTriggered entry is disarmed (dropped from its interest) until the owner
// calls Modify, which is exactly how Core re-arms an edge (IPoller.NativeEdgeTriggered = false).
//
// An entry with no interest stays registered but its pollfd.fd is set to -1, which poll(2)
// skips entirely. Otherwise POLLHUP/POLLERR, which poll reports whatever was asked for, would
// make a hung-up descriptor nobody listens to wake every call and spin the loop.
//
// Errors and hang-ups (POLLERR, POLLHUP, POLLNVAL) are reported as Read | Write. Unlike epoll,
// poll does not forget a closed descriptor: closing one that is still registered yields
// POLLNVAL on every call until Core removes it. Removing an fd that is closed or unknown is a
// no-op, because only the table is touched.
//
// Fairness: when the caller's buffer is smaller than the number of ready entries, the scan of
// the next call resumes where this one stopped, so later entries are not starved (epoll gets
// the same from its ready-list rotation).
internal sealed unsafe class PollPoller : IPoller
{
    private const int InitialCapacity = 16;

    private PollFd[] _pollFds = GC.AllocateArray<PollFd>(InitialCapacity, pinned: true);
    private Entry[] _entries = new Entry[InitialCapacity];
    private readonly Dictionary<int, int> _indexByFd = [];
    private int _count;
    private int _scanStart;
    private bool _disposed;

    public PollerKind Kind => PollerKind.Poll;

    public int Handle => -1;

    public bool NativeEdgeTriggered => false;

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is already registered.</exception>
    public void Add(int fd, PollEvents events, int token)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (!_indexByFd.TryAdd(fd, _count))
        {
            throw new InvalidOperationException($"Descriptor {fd} is already registered with this poller.");
        }

        if (_count == _pollFds.Length)
        {
            Grow();
        }

        _entries[_count] = new Entry { Fd = fd };
        Arm(_count++, events, token);
    }

    /// <exception cref="InvalidOperationException"><paramref name="fd"/> is not registered.</exception>
    public void Modify(int fd, PollEvents events, int token)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_indexByFd.TryGetValue(fd, out int index))
        {
            throw new InvalidOperationException($"Descriptor {fd} is not registered with this poller.");
        }

        Arm(index, events, token);
    }

    public void Remove(int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_indexByFd.Remove(fd, out int index))
        {
            return;
        }

        int last = --_count;
        if (index != last)
        {
            _pollFds[index] = _pollFds[last];
            _entries[index] = _entries[last];
            _indexByFd[_entries[index].Fd] = index;
        }

        _pollFds[last] = default;
        _entries[last] = default;
    }

    /// <exception cref="ArgumentException"><paramref name="ready"/> is empty.</exception>
    public int Poll(Span<ReadyEvent> ready, int timeoutMs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ready.IsEmpty)
        {
            throw new ArgumentException("The ready buffer must have room for at least one event.", nameof(ready));
        }

        long start = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        int remaining = timeoutMs;
        int signalled;
        fixed (PollFd* fds = _pollFds)
        {
            while ((signalled = EventLoop.Interop.Libc.Poll(fds, (nuint)_count, remaining)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw CreateException($"poll({_count} fds)", errno);
                }

                remaining = PollTimeout.Remaining(timeoutMs, start);
            }
        }

        int written = 0;
        int index = _scanStart < _count ? _scanStart : 0;
        for (int scanned = 0; scanned < _count && written < signalled && written < ready.Length; scanned++)
        {
            short revents = _pollFds[index].ReturnedEvents;
            if (revents != 0)
            {
                _pollFds[index].ReturnedEvents = 0;
                IoEvents events = Translate(revents);
                ready[written++] = new ReadyEvent(_entries[index].Token, events);
                if ((_entries[index].Interest & PollEvents.EdgeTriggered) != 0)
                {
                    // IoEvents.Read/Write and PollEvents.Read/Write share their bit values.
                    Arm(index, _entries[index].Interest & ~(PollEvents)events, _entries[index].Token);
                }
            }

            index = index + 1 == _count ? 0 : index + 1;
        }

        _scanStart = index;
        return written;
    }

    public void Dispose()
    {
        _disposed = true;
        _indexByFd.Clear();
        _count = 0;
    }

    private void Arm(int index, PollEvents events, int token)
    {
        ref Entry entry = ref _entries[index];
        entry.Interest = events;
        entry.Token = token;

        short wanted = 0;
        if ((events & PollEvents.Read) != 0)
        {
            wanted |= POLLIN;
        }

        if ((events & PollEvents.Write) != 0)
        {
            wanted |= POLLOUT;
        }

        _pollFds[index] = new PollFd { Fd = wanted == 0 ? -1 : entry.Fd, Events = wanted };
    }

    private static IoEvents Translate(short revents)
    {
        if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
        {
            return IoEvents.Read | IoEvents.Write;
        }

        var result = IoEvents.None;
        if ((revents & (POLLIN | POLLPRI)) != 0)
        {
            result |= IoEvents.Read;
        }

        if ((revents & POLLOUT) != 0)
        {
            result |= IoEvents.Write;
        }

        return result;
    }

    private void Grow()
    {
        var pollFds = GC.AllocateArray<PollFd>(_pollFds.Length * 2, pinned: true);
        _pollFds.AsSpan(0, _count).CopyTo(pollFds);
        _pollFds = pollFds;
        Array.Resize(ref _entries, _pollFds.Length);
    }

    private struct Entry
    {
        public int Fd;
        public int Token;
        public PollEvents Interest;
    }
}
