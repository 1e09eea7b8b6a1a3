using System.Runtime.InteropServices;
using EventLoop.Internal;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop;

/// <summary>
/// One reusable io_uring request slot of a driver: at most one receive, send or accept in flight at a
/// time, its result reported to the <see cref="ICompletionHandler"/> given to
/// <see cref="CompletionIo.CreateRequest"/>. See <see cref="CompletionIo"/> for the pattern.
/// Loop-thread only.
/// </summary>
public sealed class CompletionRequest
{
    private int _slot = -1;
    private ulong _userData;
    // Pool buffers received and not yet released, oldest first (a multishot receive may deliver
    // several before the driver takes them).
    private PooledBuffer[] _pooled = new PooledBuffer[1];
    private int _pooledHead;
    private int _pooledCount;

    internal CompletionRequest(CompletionIo io, ICompletionHandler handler)
    {
        Io = io;
        Handler = handler;
    }

    /// <summary>The ring the request runs on.</summary>
    public CompletionIo Io { get; }

    /// <summary>Told the result of each completed request.</summary>
    public ICompletionHandler Handler { get; }

    /// <summary>True from a submission until its completion is reported or it is cancelled.</summary>
    public bool IsInFlight => _slot >= 0;

    /// <summary>
    /// True while the request is queued and not yet handed to the kernel (the loop's next
    /// <c>io_uring_enter</c> submits it): nothing of it has taken effect, and <see cref="TryCancel"/>
    /// withdraws it without a system call, so a driver may replace it with a larger one.
    /// </summary>
    public bool IsQueued => _slot >= 0 && Io.IsQueued(_slot);

    /// <summary>
    /// Queues <c>IORING_OP_RECV</c> of up to <paramref name="buffer"/>'s length from
    /// <paramref name="handle"/> into <paramref name="buffer"/>; the loop's next
    /// <c>io_uring_enter</c> submits it. The kernel waits for data itself (no readiness round trip).
    /// Loop thread.
    /// </summary>
    /// <param name="handle">A connected stream or datagram socket; keep it open until the request ends.</param>
    /// <param name="buffer">Pinned until the request completes or is cancelled. An empty buffer completes with 0 at once.</param>
    /// <exception cref="InvalidOperationException">A request is already in flight, or called off the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public void Receive(SafeHandle handle, Memory<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ThrowIfInFlight();
        Io.Submit(this, IORING_OP_RECV, handle, buffer.Pin(), (uint)buffer.Length, 0);
    }

    /// <summary>
    /// Queues <c>IORING_OP_RECV</c> from <paramref name="handle"/> into a buffer the kernel takes
    /// from the loop's receive pool when data arrives (<c>IOSQE_BUFFER_SELECT</c>), so the wait
    /// holds no memory: the way to wait for data on thousands of idle connections. Each positive
    /// result leaves its bytes (up to 4 KiB; more stays queued in the socket) in a pool buffer,
    /// read through <see cref="PooledData"/> until <see cref="ReleasePooled"/>. A result of
    /// <c>-105</c> (ENOBUFS) means the pool was empty: nothing was received. Loop thread.
    /// </summary>
    /// <param name="handle">A connected stream socket; keep it open until the request ends.</param>
    /// <param name="multishot">
    /// Keep receiving (<c>IORING_RECV_MULTISHOT</c>, 6.0): the request stays in flight and the
    /// handler is told each arrival (<see cref="IsInFlight"/> is still true then) until a final
    /// result ends it: 0 at end of stream, a negated errno (ENOBUFS when the pool ran dry), or
    /// <see cref="TryCancel"/>. The kernel keeps taking data while the driver does not read it,
    /// so the driver bounds what it holds (<see cref="PooledCount"/>) by cancelling.
    /// </param>
    /// <exception cref="InvalidOperationException">A request is already in flight, or called off the loop thread.</exception>
    /// <exception cref="NotSupportedException">The pool is not available (<see cref="CompletionIo.CanReceivePooled"/> is false).</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public void ReceivePooled(SafeHandle handle, bool multishot = false)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ThrowIfInFlight();
        if (!Io.CanReceivePooled)
        {
            throw new NotSupportedException("The kernel refused the loop's receive pool (IORING_REGISTER_PBUF_RING, Linux 5.19).");
        }

        Io.Submit(this, IORING_OP_RECV, handle, default, 0, 0, pooled: true, multishot: multishot);
    }

    /// <summary>
    /// The bytes of the oldest pool buffer this request received and the driver has not released
    /// (also one that completed just before <see cref="TryCancel"/>); empty when none is held.
    /// Valid until <see cref="ReleasePooled"/>. Loop thread.
    /// </summary>
    public ReadOnlySpan<byte> PooledData =>
        _pooledCount > 0 && Io.Pool is { } pool ? pool.Data(_pooled[_pooledHead].Id, _pooled[_pooledHead].Length) : default;

    /// <summary>How many received pool buffers the request holds (see <see cref="PooledData"/>).</summary>
    public int PooledCount => _pooledCount;

    /// <summary>Gives the oldest held pool buffer (<see cref="PooledData"/>) back to the pool; nothing when none is held. Loop thread.</summary>
    public void ReleasePooled()
    {
        if (_pooledCount > 0)
        {
            ushort id = _pooled[_pooledHead].Id;
            _pooledHead = (_pooledHead + 1) % _pooled.Length;
            _pooledCount--;
            Io.ReturnBuffer(id);
        }
    }

    /// <summary>
    /// Queues <c>IORING_OP_SEND</c> of <paramref name="buffer"/> to <paramref name="handle"/>
    /// (with <c>MSG_NOSIGNAL</c> and <c>MSG_WAITALL</c>: the kernel waits for room until all is
    /// sent); the loop's next <c>io_uring_enter</c> submits it. A result short of the length
    /// (a failure after part was sent, or a kernel before 5.18 that does not retry): submit the
    /// rest, which reports the failure. Loop thread.
    /// </summary>
    /// <param name="handle">A connected socket; keep it open until the request ends.</param>
    /// <param name="buffer">Pinned until the request completes or is cancelled; leave it unchanged meanwhile.</param>
    /// <exception cref="InvalidOperationException">A request is already in flight, or called off the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public void Send(SafeHandle handle, ReadOnlyMemory<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ThrowIfInFlight();
        Io.Submit(this, IORING_OP_SEND, handle, buffer.Pin(), (uint)buffer.Length, MSG_NOSIGNAL | MSG_WAITALL);
    }

    /// <summary>
    /// Queues <c>IORING_OP_ACCEPT</c> on the listening socket <paramref name="listener"/>; the
    /// loop's next <c>io_uring_enter</c> submits it. The kernel waits for a connection itself (no
    /// readiness round trip) and reports each accepted one as a new descriptor (non-blocking,
    /// close-on-exec) that the handler then owns, or a negated errno (<c>-24</c> EMFILE,
    /// <c>-103</c> ECONNABORTED, ...). Loop thread.
    /// </summary>
    /// <param name="listener">A listening stream socket; keep it open until the request ends.</param>
    /// <param name="multishot">
    /// Keep accepting (<c>IORING_ACCEPT_MULTISHOT</c>, 5.19): the request stays in flight and the
    /// handler is told each connection (<see cref="IsInFlight"/> is still true then) until a
    /// final result ends it (a failure, or <see cref="TryCancel"/>). Connections accepted while
    /// <see cref="TryCancel"/> runs are reported to the handler from inside it, before it returns.
    /// </param>
    /// <exception cref="InvalidOperationException">A request is already in flight, or called off the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public void Accept(SafeHandle listener, bool multishot = false)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ThrowIfInFlight();
        Io.Submit(this, IORING_OP_ACCEPT, listener, default, 0, SOCK_NONBLOCK | SOCK_CLOEXEC, ioPriority: multishot ? IORING_ACCEPT_MULTISHOT : (ushort)0);
    }

    /// <summary>
    /// Ends the request in flight before returning: afterwards the kernel holds neither the buffer
    /// nor the descriptor, and the handler is not called for it. A request not yet submitted is
    /// withdrawn without a system call; a submitted one costs one (<c>IORING_REGISTER_SYNC_CANCEL</c>).
    /// Loop thread.
    /// </summary>
    /// <param name="result">
    /// What the request ended with: <c>-125</c> (ECANCELED) when it was cancelled before it took
    /// effect; otherwise the result it completed with just before (a byte count the caller must not
    /// lose, e.g. data already received into the buffer, a descriptor an accept made, or a negated errno).
    /// </param>
    /// <returns>False when nothing was in flight (<paramref name="result"/> is 0).</returns>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    public bool TryCancel(out int result)
    {
        if (_slot < 0)
        {
            result = 0;
            return false;
        }

        Io.VerifyAccess();
        result = Io.Cancel(this, _slot, _userData);
        return true;
    }

    internal void OnSubmitted(int slot, ulong userData)
    {
        _slot = slot;
        _userData = userData;
    }

    internal void OnPooledReceived(ushort id, int length)
    {
        if (_pooledCount == _pooled.Length)
        {
            var grown = new PooledBuffer[_pooled.Length * 2];
            for (int i = 0; i < _pooledCount; i++)
            {
                grown[i] = _pooled[(_pooledHead + i) % _pooled.Length];
            }

            _pooled = grown;
            _pooledHead = 0;
        }

        _pooled[(_pooledHead + _pooledCount) % _pooled.Length] = new PooledBuffer(id, length);
        _pooledCount++;
    }

    internal void OnEnded()
    {
        _slot = -1;
        _userData = 0;
    }

    private void ThrowIfInFlight()
    {
        if (_slot >= 0)
        {
            ThrowHelper.ThrowInvalidOperation("A request of this CompletionRequest is already in flight.");
        }
    }

    private readonly record struct PooledBuffer(ushort Id, int Length);
}
