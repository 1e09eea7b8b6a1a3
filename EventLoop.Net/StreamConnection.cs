using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

/// <summary>
/// A connected stream socket (TCP or Unix domain) driven by its loop's poller. At most one
/// receive and one send may be in flight at a time. Awaiting an operation suspends only the
/// awaiting greenlet; killing that greenlet cancels the operation.
/// </summary>
/// <remarks>
/// Loop-thread only, except <see cref="Dispose"/> (any thread) and the <see cref="Stream"/> from
/// <see cref="AsStream"/>, whose asynchronous methods may be called from any thread.
/// Return types follow one rule: a socket operation on a pooled source that often completes
/// synchronously and is awaited once (receive, send, accept, datagram receive and send) returns
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>, so a warm one allocates nothing;
/// await it once, or call <c>AsTask()</c>. A composite operation that allocates anyway and may be
/// awaited many times or from other threads (<c>ConnectAsync</c>: resolution, several attempts;
/// <c>StreamServer.StopAsync</c>) returns <see cref="Task"/>.
/// </remarks>
public sealed class StreamConnection : IDisposable
{
    private readonly LoopSocket _socket;
    private readonly bool _isUnix;
    private ReceiveOperation? _cachedReceive;
    private SendOperation? _cachedSend;
    private EndPoint? _localEndPoint;
    private EndPoint? _remoteEndPoint;
    private LoopStream? _stream;
    // EVENTLOOP_RECEIVE_MULTISHOT=0 keeps the single-shot pooled receive (one request per wait).
    private static readonly bool s_multishot = Environment.GetEnvironmentVariable("EVENTLOOP_RECEIVE_MULTISHOT") != "0";

    private RingConnectionState? _ring; // io_uring only: null until the first ring operation (Ring)
    private bool _disposed;
    private bool _disposeRequested; // Dispose ran on another thread; the close is posted to the loop
    private bool _sendShutdown;

    /// <summary>
    /// Wraps a connected descriptor; TCP connections get <c>TCP_NODELAY</c>. Registered for Read
    /// only: Write is added if a send ever has to wait (see LoopSocket's design note). On the
    /// io_uring back end with the receive pool, for nothing: receives wait on the ring, and a
    /// direction is armed only if an operation falls back to waiting for readiness.
    /// </summary>
    internal StreamConnection(Loop loop, int fd, bool isUnix)
        : this(new LoopSocket(loop, fd, loop.CompletionIo is { CanReceivePooled: true } ? IoEvents.None : IoEvents.Read), isUnix)
    {
    }

    /// <summary>Wraps a socket that is already registered (a connect that waited).</summary>
    internal StreamConnection(LoopSocket socket, bool isUnix)
    {
        _socket = socket;
        _isUnix = isUnix;
        if (!isUnix)
        {
            // Request/response protocols stall for up to 40 ms (Nagle + delayed ACK) without it.
            SocketPal.SetNoDelay(socket.Fd, true);
        }

        // The send operation is created the first time a send has to wait (then cached): most
        // connections never fill their send buffer, and ten thousand idle ones should not carry it.
        _cachedReceive = new ReceiveOperation(this, socket);
    }

    /// <summary>The loop the connection runs on.</summary>
    public Loop Loop => _socket.Loop;

    /// <summary>The local address; null for an unnamed Unix socket or once disposed.</summary>
    public EndPoint? LocalEndPoint
    {
        get
        {
            if (_localEndPoint is null && !_disposed)
            {
                SocketPal.GetLocalEndPoint(_socket.Fd, out _localEndPoint);
            }

            return _localEndPoint;
        }
    }

    /// <summary>The peer's address; null for an unnamed Unix peer, or when it is not known (reset, disposed).</summary>
    public EndPoint? RemoteEndPoint
    {
        get
        {
            if (_remoteEndPoint is null && !_disposed)
            {
                SocketPal.GetRemoteEndPoint(_socket.Fd, out _remoteEndPoint);
            }

            return _remoteEndPoint;
        }
        internal set => _remoteEndPoint = value;
    }

    /// <summary>
    /// Nagle's algorithm off (<c>TCP_NODELAY</c>); true by default for TCP. Always false, and
    /// setting it does nothing, for Unix domain connections.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    /// <exception cref="SocketException">The option could not be read or set.</exception>
    public bool NoDelay
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_isUnix)
            {
                return false;
            }

            return _socket.GetFlag(Interop.Libc.IPPROTO_TCP, Interop.Libc.TCP_NODELAY, "TCP_NODELAY");
        }

        set
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_isUnix)
            {
                return;
            }

            _socket.SetFlag(Interop.Libc.IPPROTO_TCP, Interop.Libc.TCP_NODELAY, value, "TCP_NODELAY");
        }
    }

    /// <summary>True once <see cref="Dispose"/> ran (or the loop was disposed).</summary>
    public bool IsDisposed => _disposed || _disposeRequested || _socket.IsClosed;

    internal LoopSocket Socket => _socket;

    /// <summary>
    /// Receives into <paramref name="buffer"/>: completes with the number of bytes received
    /// (at least 1), or 0 when the peer has shut down its sending side. Data that is already
    /// queued is returned synchronously. An empty buffer waits until data is available and
    /// returns 0 without consuming any. Loop thread.
    /// </summary>
    /// <remarks>
    /// On the io_uring back end (<see cref="Loop.CompletionIo"/>) a receive that has to wait is a
    /// receive request on the ring into <paramref name="buffer"/>. From its first zero-byte
    /// receive on, the connection receives through one multishot request that takes buffers from
    /// the loop's receive pool as data comes (at most 32 KiB ahead of the reader): receives are
    /// then served from those buffers, synchronously when the ring has delivered data, and a
    /// zero-byte receive completes once some is there. Either way a canceled wait loses no data.
    /// </remarks>
    /// <param name="buffer">Where the data goes; must stay valid until the operation completes.</param>
    /// <param name="cancellationToken">Cancels the wait; the connection stays usable and no data is lost.</param>
    /// <returns>The byte count; 0 at end of stream.</returns>
    /// <exception cref="ObjectDisposedException">The connection was disposed (also completes a receive in flight).</exception>
    /// <exception cref="InvalidOperationException">Another receive is in flight.</exception>
    /// <exception cref="SocketException">The connection failed, e.g. <see cref="SocketError.ConnectionReset"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the awaiting greenlet was killed.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable(SocketDirection.Read);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (_socket.Completions is { } io)
        {
            return ReceiveThroughRing(buffer, io, cancellationToken);
        }

        if (buffer.IsEmpty && _socket.IsDrained)
        {
            // The last receive came back short: the queue was drained, and whatever comes next
            // raises an edge. Wait for it without a peek (see LoopSocket's design note).
            _socket.Arm(SocketDirection.Read);
        }
        else if (_socket.IsReady(SocketDirection.Read))
        {
            SocketError error = ReceiveCore(_socket, buffer.Span, out int received);
            if (error == SocketError.Success)
            {
                return new ValueTask<int>(received);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<int>(NetThrowHelper.CreateSocketException(error, "receive"));
            }

            _socket.OnWouldBlock(SocketDirection.Read);
        }

        ReceiveOperation op = _cachedReceive ?? new ReceiveOperation(this, _socket);
        _cachedReceive = null;
        return op.Start(buffer, cancellationToken);
    }

    /// <summary>
    /// Sends all of <paramref name="buffer"/>: completes when every byte has been handed to the
    /// kernel, waiting for room in the send buffer as often as needed (so a slow reader slows
    /// the writer instead of growing memory). Completes synchronously when everything fits. Loop thread.
    /// </summary>
    /// <remarks>
    /// On the io_uring back end (<see cref="Loop.CompletionIo"/>) a send of up to 16 KiB is copied
    /// to the ring and completes synchronously: the loop's next <c>io_uring_enter</c> hands it to the
    /// kernel with every other request of the iteration, and a receive system call, a
    /// <see cref="ShutdownSend"/> or <see cref="Dispose"/> on this loop comes after it. Sends made
    /// before that <c>io_uring_enter</c> (several greenlets writing, or one writing several pieces)
    /// join the queued copy, up to 16 KiB in all, and complete synchronously too; a send made once
    /// the kernel has the copy waits for it. A failure of the copy (the peer reset) is thrown by
    /// the next send.
    /// </remarks>
    /// <param name="buffer">The data; must stay unchanged until the operation completes.</param>
    /// <param name="cancellationToken">
    /// Cancels the wait. A send canceled part-way leaves an unknown prefix sent, so the stream
    /// should then be closed.
    /// </param>
    /// <returns>A task that completes once every byte is with the kernel.</returns>
    /// <exception cref="ObjectDisposedException">The connection was disposed (also completes a send in flight).</exception>
    /// <exception cref="InvalidOperationException">Another send is in flight.</exception>
    /// <exception cref="SocketException">The connection failed (<see cref="SocketError.ConnectionReset"/>, <see cref="SocketError.Shutdown"/>...).</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the awaiting greenlet was killed.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable(SocketDirection.Write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_socket.Completions is not null && TrySendOnRing(buffer, cancellationToken, out ValueTask onRing))
        {
            return onRing;
        }

        ReadOnlyMemory<byte> remaining = buffer;
        if (_socket.IsReady(SocketDirection.Write))
        {
            while (!remaining.IsEmpty)
            {
                SocketError error = SocketPal.Send(_socket.Fd, remaining.Span, out int sent);
                if (error == SocketError.Success)
                {
                    remaining = remaining[sent..];
                    continue;
                }

                if (error != SocketError.WouldBlock)
                {
                    return ValueTask.FromException(NetThrowHelper.CreateSocketException(error, "send"));
                }

                _socket.OnWouldBlock(SocketDirection.Write);
                break;
            }

            if (remaining.IsEmpty)
            {
                return default;
            }
        }
        else if (remaining.IsEmpty)
        {
            return default;
        }

        SendOperation op = _cachedSend ?? new SendOperation(this, _socket);
        _cachedSend = null;
        return op.Start(remaining, cancellationToken);
    }

    /// <summary>Half-closes: sends FIN after the queued data; receiving still works. Loop thread.</summary>
    /// <exception cref="ObjectDisposedException">The connection was disposed.</exception>
    /// <exception cref="InvalidOperationException">Not called on the loop thread.</exception>
    /// <exception cref="SocketException">The kernel refused (other than "not connected", which is ignored: the peer is gone).</exception>
    public void ShutdownSend()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ThrowIfOffLoopThread(); // off the loop it would race the ring send it must wait for, and sends in flight

        _sendShutdown = true; // later sends go to send(2), which reports the shutdown (see TryStartRingSend)
        if (_ring?.Send is { InFlight: true } inFlight)
        {
            // The FIN goes after the data the ring still sends (see SendAsync).
            inFlight.ShutdownAfterSend = true;
            return;
        }

        SocketError error = SocketPal.Shutdown(_socket.Fd, SocketShutdown.Send);
        if (error is not SocketError.Success and not SocketError.NotConnected)
        {
            NetThrowHelper.ThrowSocketException(error, "shutdown");
        }
    }

    /// <summary>
    /// A <see cref="Stream"/> over this connection (the same object on every call) for
    /// <c>SslStream</c>, <c>StreamReader</c>/<c>StreamWriter</c>, <c>PipeReader.Create</c> and HttpClient.
    /// Its asynchronous methods work from any thread (off the loop they are marshalled onto it, and
    /// a call still in flight when the loop is disposed fails with <see cref="ObjectDisposedException"/>);
    /// its synchronous Read and Write throw <see cref="NotSupportedException"/> on the loop thread.
    /// A socket failure surfaces as an <see cref="IOException"/> whose inner exception is the
    /// <see cref="SocketException"/>, as with <c>NetworkStream</c> (HttpClient and other Stream
    /// consumers handle IOException). Disposing it disposes the connection.
    /// </summary>
    /// <returns>The stream.</returns>
    public Stream AsStream() => _stream ??= new LoopStream(this);

    /// <summary>
    /// Closes the connection: operations in flight complete with <see cref="ObjectDisposedException"/>,
    /// the descriptor is unregistered and closed. Idempotent. Any thread: off the loop thread the
    /// close is posted to the loop.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposeRequested = true;
        try
        {
            _socket.Loop.RunOrPost(static s => ((StreamConnection)s!).DisposeCore(), this);
        }
        catch (ObjectDisposedException)
        {
            // Off the loop thread after the loop was disposed: it closed every socket then.
        }
    }

    /// <summary>The raw receive of both the fast path and the waiting operation; records short reads on the socket.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static SocketError ReceiveCore(LoopSocket socket, Span<byte> buffer, out int received)
    {
        if (buffer.IsEmpty)
        {
            // recv(len = 0) returns 0 at once, which would read as end of stream: wait for data instead.
            received = 0;
            return SocketPal.Peek(socket.Fd);
        }

        SocketError error = SocketPal.Receive(socket.Fd, buffer, out received);
        socket.OnReceived(error == SocketError.Success ? received : 0, buffer.Length);
        return error;
    }

    internal void ReturnReceive(ReceiveOperation op) => _cachedReceive ??= op;

    // The io_uring state, made on the connection's first ring operation.
    private RingConnectionState Ring => _ring ??= new RingConnectionState();

    /// <summary>A pooled ring receive left data in <paramref name="op"/>'s pool buffer: the next receives take it.</summary>
    internal void HoldPooled(ReceiveOperation op)
    {
        RingConnectionState ring = Ring;
        if (_disposed || _socket.IsClosed || ring.Held is not null)
        {
            op.ReleasePooled();
            return;
        }

        ring.Held = op;
        ring.HeldOffset = 0;
    }

    /// <summary>
    /// Keeps bytes a canceled ring receive had already taken from the kernel; the next receive
    /// returns them first (rare: the data and the cancellation crossed).
    /// </summary>
    internal void KeepReceived(ReadOnlySpan<byte> data)
    {
        if (_disposed || _socket.IsClosed)
        {
            return;
        }

        RingConnectionState ring = Ring;
        int held = ring.KeptEnd - ring.KeptStart;
        byte[] kept = new byte[held + data.Length];
        ring.Kept?.AsSpan(ring.KeptStart, held).CopyTo(kept);
        data.CopyTo(kept.AsSpan(held));
        ring.Kept = kept;
        ring.KeptStart = 0;
        ring.KeptEnd = kept.Length;
    }

    internal void ReturnSend(SendOperation op) => _cachedSend ??= op;

    /// <summary>
    /// The ring send <paramref name="send"/> finished (sent, failed, or its connection closed) with
    /// a shutdown or a send waiting behind it: run them.
    /// </summary>
    internal void OnRingSendFinished(RingSend send)
    {
        if (_disposed || _socket.IsClosed)
        {
            return;
        }

        if (send.ShutdownAfterSend)
        {
            send.ShutdownAfterSend = false;
            _ = SocketPal.Shutdown(_socket.Fd, SocketShutdown.Send);
        }

        if (send.AfterSend is { } next)
        {
            send.AfterSend = null;
            SocketError error = send.TakeError();
            if (error != SocketError.Success)
            {
                next.TrySetException(NetThrowHelper.CreateSocketException(error, "send"));
            }
            else
            {
                next.ResumeAfterRing();
            }
        }
    }

    /// <summary>A send that waited behind the ring send was canceled.</summary>
    internal void ForgetAfterRingSend(SendOperation op)
    {
        if (_ring?.Send is { } send && ReferenceEquals(send.AfterSend, op))
        {
            send.AfterSend = null;
        }
    }

    /// <summary>
    /// The ring send of <paramref name="data"/> if it is small, else false (the caller sends it).
    /// Never after <see cref="ShutdownSend"/>: a copy would complete the send and lose the data,
    /// where send(2) reports the shutdown to this send, as on epoll.
    /// </summary>
    internal bool TryStartRingSend(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data.Length > RingSend.MaxCopy || _sendShutdown || _ring?.Send is { InFlight: true } || _socket.Completions is not { } io)
        {
            return false;
        }

        RingConnectionState ring = Ring;
        return (ring.Send ??= new RingSend(this, _socket, io)).TryStart(data);
    }

    // io_uring: a small send is copied to the ring and completes at once (no system call; the
    // kernel takes it at the loop's next io_uring_enter). A send behind one still queued joins it;
    // behind one the kernel has, it waits for it. False: the caller sends from the buffer, as on epoll.
    private bool TrySendOnRing(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken, out ValueTask result)
    {
        result = default;
        if (_ring?.Send is not { } ringSend)
        {
            return TryStartRingSend(buffer.Span);
        }

        if (ringSend.Error != SocketError.Success)
        {
            result = ValueTask.FromException(NetThrowHelper.CreateSocketException(ringSend.TakeError(), "send"));
            return true;
        }

        if (buffer.IsEmpty)
        {
            return true;
        }

        if (ringSend.InFlight)
        {
            if (!_sendShutdown && ringSend.TryAppend(buffer.Span))
            {
                return true; // joined the queued copy: sent in order with it, done as far as the caller goes
            }

            SendOperation waiting = _cachedSend ?? new SendOperation(this, _socket);
            _cachedSend = null;
            result = waiting.StartAfterRing(buffer, cancellationToken);
            if (waiting.IsPending)
            {
                ringSend.AfterSend = waiting;
            }

            return true;
        }

        return TryStartRingSend(buffer.Span);
    }

    // ReceiveAsync on the io_uring back end (see the remarks there and LoopSocket's design note):
    // bytes a canceled wait left, then the multishot receiver once a zero-byte receive started
    // it, else recv(2) while the readiness bit is set and a ring receive when it has to wait.
    private ValueTask<int> ReceiveThroughRing(Memory<byte> buffer, CompletionIo io, CancellationToken cancellationToken)
    {
        RingConnectionState? ring = _ring;
        if (ring?.Held is not null)
        {
            return new ValueTask<int>(TakeHeld(ring, buffer.Span));
        }

        if (ring?.KeptEnd > 0)
        {
            return new ValueTask<int>(TakeKept(ring, buffer.Span));
        }

        if (ring?.Receiver is not null || (buffer.IsEmpty && s_multishot && io.CanReceivePooled))
        {
            return ReceiveOnReceiver(buffer, cancellationToken);
        }

        ReceiveOperation op;
        if (buffer.IsEmpty && io.CanReceivePooled)
        {
            // Wait through the ring holding no buffer; the data then waits in a pool buffer.
            op = _cachedReceive ?? new ReceiveOperation(this, _socket);
            _cachedReceive = null;
            return op.StartPooled(io, cancellationToken);
        }

        if (buffer.IsEmpty && _socket.IsDrained)
        {
            _socket.Arm(SocketDirection.Read);
        }
        else if (_socket.IsReady(SocketDirection.Read))
        {
            // A system call observes the kernel: sends queued on the ring go first.
            io.Submit();
            SocketError error = ReceiveCore(_socket, buffer.Span, out int received);
            if (error == SocketError.Success)
            {
                return new ValueTask<int>(received);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<int>(NetThrowHelper.CreateSocketException(error, "receive"));
            }

            if (buffer.IsEmpty)
            {
                _socket.OnWouldBlock(SocketDirection.Read);
            }
            else
            {
                _socket.OnReceiveWouldBlockOnRing();
            }
        }

        op = _cachedReceive ?? new ReceiveOperation(this, _socket);
        _cachedReceive = null;
        return buffer.IsEmpty ? op.Start(buffer, cancellationToken) : op.StartOnRing(buffer, io, cancellationToken);
    }

    // The connection receives through its multishot ring receive from its first zero-byte
    // receive on (see RingReceiver): served from the pool buffers it holds, or waiting for more.
    private ValueTask<int> ReceiveOnReceiver(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        RingConnectionState ring = Ring;
        RingReceiver receiver = ring.Receiver ??= new RingReceiver(_socket, _socket.Completions!);
        if (receiver.TryReceive(buffer.Span, out int received, out SocketError error))
        {
            return error == SocketError.Success
                ? new ValueTask<int>(received)
                : ValueTask.FromException<int>(NetThrowHelper.CreateSocketException(error, "receive"));
        }

        ReceiveOperation op = _cachedReceive ?? new ReceiveOperation(this, _socket);
        _cachedReceive = null;
        return op.StartOnReceiver(receiver, buffer, cancellationToken);
    }

    private static int TakeHeld(RingConnectionState ring, Span<byte> buffer)
    {
        // An empty buffer only asks whether data is there: it is.
        ReceiveOperation held = ring.Held!;
        ReadOnlySpan<byte> data = held.PooledData[ring.HeldOffset..];
        int count = Math.Min(buffer.Length, data.Length);
        data[..count].CopyTo(buffer);
        ring.HeldOffset += count;
        if (count == data.Length)
        {
            ring.Held = null;
            held.ReleasePooled();
        }

        return count;
    }

    private static int TakeKept(RingConnectionState ring, Span<byte> buffer)
    {
        // An empty buffer only asks whether data is there: it is.
        int count = Math.Min(buffer.Length, ring.KeptEnd - ring.KeptStart);
        ring.Kept.AsSpan(ring.KeptStart, count).CopyTo(buffer);
        ring.KeptStart += count;
        if (ring.KeptStart == ring.KeptEnd)
        {
            ring.Kept = null;
            ring.KeptStart = ring.KeptEnd = 0;
        }

        return count;
    }

    private void DisposeCore()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        RingConnectionState? ring = _ring;
        if (ring?.Send is { InFlight: true })
        {
            // The kernel must have the queued send before the descriptor number is released; it
            // holds the file until the send is done, so the FIN still follows the data.
            _socket.Completions!.Submit();
        }

        ring?.Receiver?.Close(); // the kernel lets go of the descriptor before it is closed
        _socket.Close(nameof(StreamConnection));
        if (ring is not null)
        {
            ring.Held?.ReleasePooled();
            ring.Held = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfUnusable(SocketDirection direction)
    {
        if (_disposed || _socket.IsClosed || _socket.IsBusy(direction) || !_socket.Loop.CheckAccess())
        {
            ThrowUnusable(direction);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnusable(SocketDirection direction)
    {
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        ThrowIfOffLoopThread();
        throw new InvalidOperationException(direction == SocketDirection.Read
            ? "Another receive is already in flight on this connection."
            : "Another send is already in flight on this connection.");
    }

    private void ThrowIfOffLoopThread()
    {
        if (!_socket.Loop.CheckAccess())
        {
            throw new InvalidOperationException(
                "StreamConnection operations run on the loop thread; use AsStream() to call from other threads.");
        }
    }
}
