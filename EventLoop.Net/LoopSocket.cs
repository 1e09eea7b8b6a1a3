using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

// Design note: how a socket waits for readiness on the loop.
//
// Watch once, edge-triggered. Every descriptor gets one ReadinessWatch (Core's public driver API) when it is
// wrapped, armed for the directions it is likely to wait for: Read | Write for
// connecting and datagram sockets, Read only for listeners and accepted connections (most never
// wait to send). A direction that must be waited for and is not registered yet is added with one
// epoll_ctl(MOD) and then stays, so a connection pays at most one for its whole life. It is removed
// exactly once, just before it is closed. There is no epoll_ctl per operation: the alternative,
// level-triggered interest that is switched on while an operation waits and off when it completes
// (what selectors/asyncio do), costs two extra system calls for every receive that has to wait,
// and a level-triggered Write interest left on by mistake spins the loop. With EPOLLET the kernel
// reports a direction only when it *becomes* ready, so an idle, writable connection costs nothing.
//
// Readiness is cached. Edge-triggered means "you were told once; remember it". Each direction
// has a bit that starts set (optimistic: a new socket may well be ready) and is cleared only when a
// system call answers EAGAIN; the next edge for that direction sets it again. An operation tries the
// system call first whenever the bit is set, so a receive with data already queued completes
// synchronously with no poll round trip, and a send into a non-full buffer never waits. When the bit
// is clear the kernel has not reported anything since the last EAGAIN, so the operation waits at
// once instead of paying for a system call that would fail again: that is exactly what a
// hand-written epoll server does. The one case this misses is data that arrives between the poll
// phase and the operation; its edge is already queued in the kernel, so the next poll (which has a
// zero timeout whenever work is ready) delivers it.
//
// Complete in the poll phase. OnReady runs inside the poll phase. When an operation waits for the
// direction that became ready, the system call is made right there (recv into the caller's buffer,
// send the rest of the caller's data, accept) and the operation is completed, which only queues the
// awaiting continuation. No "readiness callback" item is queued first, so a wait costs one hop
// through the run queue, not two. No user code runs in OnReady.
//
// EAGAIN is a return code. SocketPal returns SocketError.WouldBlock; nothing on this path throws,
// and exceptions are built only for real failures, at completion.
//
// A short read means drained, for zero-byte receives only. A receive that returns fewer bytes than
// it asked for has emptied the socket's queue (TCP and Unix streams return all that is queued, up
// to the length), and anything that arrives later raises a new edge. So a zero-byte receive (the
// "wait until readable" of SslStream, HttpClient and the echo sample) that follows a short read
// waits for that edge at once instead of peeking: the peek would almost always answer EAGAIN. That
// is the third system call per message a hand-written server does not make. Two things keep it
// safe:
// - End of stream that arrived with the last data. The FIN raises its edge only once; when that
//   edge was already reported (merged with the data's), no further edge comes, and a zero-byte
//   receive waiting for one would hang (a test caught exactly that). epoll reports the peer's
//   half-close as EPOLLRDHUP and errors as EPOLLERR/EPOLLHUP, which reach us as Read | Write; a
//   socket registered for Read only therefore sees Write in an event only for those. Any event
//   with Write (also an ordinary one once Write is registered: then we cannot tell) turns the
//   shortcut off for good on that socket. The poll back end needs no such care: a waiting
//   direction is re-armed level-triggered, so pending data or end of stream is reported at once.
// - The contract "a receive with data already waiting completes without a poll round trip": a
//   receive with a buffer ignores the hint and always tries the system call while the readiness
//   bit is set. A zero-byte receive only waits, and data that came in after the short read has
//   raised an edge that the next poll (zero timeout while work is ready) delivers.
// TCP urgent data is the one known gap: a read stops short at the urgent mark, and a zero-byte
// receive after it waits for the peer's next segment. Nothing here uses urgent data.
//
// The poll(2) back end. It has no edge-triggered mode, so it emulates one as one-shot: a direction
// that is reported is disarmed until re-armed (ReadinessWatch.StaysArmed is false). The watch tracks
// which directions are armed, and Arm re-arms one when an operation must wait for it and it is not
// armed. Under epoll a direction, once armed, stays armed.
//
// Errors and hang-ups arrive as Read | Write: both waiters retry their system call, which then
// reports the actual condition (ECONNRESET, EOF, EPIPE) to the operation it belongs to.
//
// The io_uring back end (Loop.CompletionIo not null). Readiness works as above through the ring's
// poll requests, and StreamConnection adds completions: a receive that has to wait is a receive
// request into the caller's buffer (edges then change nothing for it: SocketOperation.OnRing); from
// its first zero-byte receive on, a connection receives through one multishot request that takes
// buffers from the loop's pool as data comes (RingReceiver), and receives copy from those buffers
// without a system call; a small send is copied to the ring and completes at once. So an echo
// round trip costs no system call of its own, only a share of the iteration's io_uring_enter. A
// listener registers no direction: once accept4 finds nothing, one multishot accept request
// stays armed and hands connections to the waiting accept or a short queue (RingAcceptor).
// A wait that is aborted cancels its
// request synchronously (CompletionRequest.TryCancel), so the buffer is the caller's again and
// the descriptor can be closed; bytes that crossed the cancellation are kept for the next
// receive. Close submits queued requests before the descriptor number is released.
//
// Closing (trio's notify_closing): Close first completes the waiters with ObjectDisposedException
// (their continuations are only queued), then unregisters from the poller, then closes the
// descriptor, so no event for a recycled descriptor number can reach a dead socket, and epoll never
// keeps watching an open file description that a forked child still holds.

/// <summary>
/// A non-blocking descriptor registered once with the loop's poller, with cached edge-triggered
/// readiness and at most one waiting operation per direction. The building block of listeners,
/// connections and datagram sockets. Loop-thread only.
/// </summary>
internal sealed class LoopSocket : IReadinessHandler
{
    private readonly Loop _loop;
    private readonly SocketHandle _handle;
    private readonly ReadinessWatch _watch = null!;
    private readonly bool _nativeEdgeTriggered;
    private bool _readReady = true;
    private bool _writeReady = true;
    private bool _readDrained;
    private bool _mayHaveHungUp;
    private ISocketWait? _reader;
    private ISocketWait? _writer;
    private bool _closed;

    /// <summary>Wraps and registers <paramref name="fd"/>; on failure the descriptor is closed.</summary>
    /// <param name="loop">The loop whose poller watches the descriptor.</param>
    /// <param name="fd">A non-blocking socket this object now owns.</param>
    /// <param name="interest">Read, or Read | Write.</param>
    public LoopSocket(Loop loop, int fd, IoEvents interest)
    {
        _loop = loop;
        _handle = new SocketHandle(fd);
        Fd = fd;
        try
        {
            _watch = loop.Watch(_handle, interest, this);
        }
        catch
        {
            _closed = true;
            _handle.Dispose();
            throw;
        }

        _nativeEdgeTriggered = _watch.StaysArmed;
        Completions = loop.CompletionIo;
    }

    /// <summary>The loop's completion I/O (io_uring), or null: operations then wait for readiness only.</summary>
    public CompletionIo? Completions { get; }

    /// <summary>The descriptor's handle, for requests on the ring.</summary>
    public SafeHandle Handle => _handle;

    /// <summary>The descriptor (still the old number once closed: check <see cref="IsClosed"/>).</summary>
    public int Fd { get; }

    /// <summary>The loop the socket belongs to.</summary>
    public Loop Loop => _loop;

    /// <summary>Reads an on/off socket option; <paramref name="option"/> names it in the exception.</summary>
    /// <exception cref="SocketException">The option could not be read.</exception>
    public bool GetFlag(int level, int name, string option)
    {
        SocketError error = SocketPal.GetIntOption(Fd, level, name, out int value);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, $"getsockopt({option})");
        }

        return value != 0;
    }

    /// <summary>Turns an on/off socket option on or off; <paramref name="option"/> names it in the exception.</summary>
    /// <exception cref="SocketException">The option could not be set.</exception>
    public void SetFlag(int level, int name, bool value, string option)
    {
        SocketError error = SocketPal.SetIntOption(Fd, level, name, value ? 1 : 0);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, $"setsockopt({option})");
        }
    }

    /// <summary>True once <see cref="Close"/> ran (or the loop was disposed).</summary>
    public bool IsClosed => _closed;

    /// <summary>False only when the last system call in this direction returned EAGAIN and no edge came since.</summary>
    public bool IsReady(SocketDirection direction) => direction == SocketDirection.Read ? _readReady : _writeReady;

    /// <summary>True when an operation waits for <paramref name="direction"/>.</summary>
    public bool IsBusy(SocketDirection direction) => (direction == SocketDirection.Read ? _reader : _writer) is not null;

    /// <summary>
    /// True when the last stream receive came back short and no Read edge came since: a zero-byte
    /// receive can wait for the next edge without a peek (see the design note).
    /// </summary>
    public bool IsDrained => _readDrained;

    /// <summary>Records EAGAIN: the direction is not ready until its next edge (armed if it is not).</summary>
    public void OnWouldBlock(SocketDirection direction)
    {
        if (direction == SocketDirection.Read)
        {
            _readReady = false;
        }
        else
        {
            _writeReady = false;
        }

        Arm(direction);
    }

    /// <summary>
    /// Records EAGAIN of a receive that goes on through the ring: the kernel waits for the data
    /// itself, so Read is not armed (no edge is needed, and an armed Read would report every
    /// message once more).
    /// </summary>
    public void OnReceiveWouldBlockOnRing() => _readReady = false;

    /// <summary>
    /// Records a receive completed by the ring with data: as after a receive system call, more may
    /// be queued (or come) for the next receive's system call to take at once.
    /// </summary>
    public void OnReceivedOnRing() => _readReady = true;

    /// <summary>
    /// Records a successful stream receive of <paramref name="received"/> bytes into a buffer of
    /// <paramref name="requested"/>: a short one means the queue was drained, when that can be
    /// trusted (see the design note).
    /// </summary>
    public void OnReceived(int received, int requested) =>
        _readDrained = received > 0 && received < requested && (!_nativeEdgeTriggered || !_mayHaveHungUp);

    /// <summary>
    /// Makes sure the poller reports <paramref name="direction"/>: a wait that did not start with
    /// EAGAIN (a zero-byte receive after a short read) must arm it itself.
    /// </summary>
    public void Arm(SocketDirection direction)
    {
        if (!_closed)
        {
            _watch.Arm(direction == SocketDirection.Read ? IoEvents.Read : IoEvents.Write);
        }
    }

    /// <summary>Parks <paramref name="wait"/> until <paramref name="direction"/> becomes ready.</summary>
    public void BeginWait(ISocketWait wait, SocketDirection direction)
    {
        Debug.Assert(!_closed, "waiting on a closed socket");
        if (direction == SocketDirection.Read)
        {
            Debug.Assert(_reader is null, "two readers");
            _reader = wait;
        }
        else
        {
            Debug.Assert(_writer is null, "two writers");
            _writer = wait;
        }
    }

    /// <summary>Removes <paramref name="wait"/> if it is the one waiting for <paramref name="direction"/> (cancellation).</summary>
    public void EndWait(ISocketWait wait, SocketDirection direction)
    {
        if (direction == SocketDirection.Read)
        {
            if (ReferenceEquals(_reader, wait))
            {
                _reader = null;
            }
        }
        else if (ReferenceEquals(_writer, wait))
        {
            _writer = null;
        }
    }

    /// <summary>
    /// Wakes waiters with <see cref="ObjectDisposedException"/>, unregisters, then closes the
    /// descriptor. Idempotent.
    /// </summary>
    /// <param name="objectName">Named in the waiters' exception.</param>
    public void Close(string objectName)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        AbortWaiters(objectName);
        _watch.Dispose();
        Completions?.Submit(); // a queued request must reach the kernel before its descriptor number is free
        _handle.Dispose();
    }

    void IReadinessHandler.OnReady(ReadinessWatch watch, IoEvents events)
    {
        if (_closed)
        {
            return;
        }

        if (_nativeEdgeTriggered && (events & IoEvents.Write) != 0)
        {
            // A hang-up or an error (Write is not armed), or writability we cannot tell from one:
            // either way short reads no longer prove that nothing is pending (see the design note).
            _mayHaveHungUp = true;
        }

        if ((events & IoEvents.Read) != 0)
        {
            _readReady = true;
            _readDrained = false;
            if (_reader is { } reader && reader.TryComplete())
            {
                // TryComplete may have let a cancellation or a Close clear the slot already.
                if (ReferenceEquals(_reader, reader))
                {
                    _reader = null;
                }
            }
        }

        if ((events & IoEvents.Write) != 0 && !_closed)
        {
            _writeReady = true;
            if (_writer is { } writer && writer.TryComplete() && ReferenceEquals(_writer, writer))
            {
                _writer = null;
            }
        }
    }

    void IReadinessHandler.OnLoopDisposed(ReadinessWatch watch) => Close("Loop");

    private void AbortWaiters(string objectName)
    {
        ISocketWait? reader = _reader;
        ISocketWait? writer = _writer;
        _reader = null;
        _writer = null;
        reader?.TrySetException(new ObjectDisposedException(objectName));
        writer?.TrySetException(new ObjectDisposedException(objectName));
    }
}
