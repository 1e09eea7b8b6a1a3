using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

/// <summary>
/// A datagram socket (UDP over IPv4/IPv6, or Unix datagram) on a loop; create it with
/// <see cref="LoopNetExtensions.BindDatagram"/> (bound to an address, to receive from anyone) or
/// <see cref="LoopNetExtensions.ConnectDatagram"/> (one peer, as asyncio's <c>remote_addr</c>).
/// One receive and one send may be in flight at a time.
/// Loop-thread only, except <see cref="Dispose"/> (any thread).
/// </summary>
/// <remarks>
/// Return types follow one rule: a socket operation on a pooled source that often completes
/// synchronously and is awaited once (receive, send, accept, datagram receive and send) returns
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>, so a warm one allocates nothing;
/// await it once, or call <c>AsTask()</c>. A composite operation that allocates anyway and may be
/// awaited many times or from other threads (<c>ConnectAsync</c>: resolution, several attempts;
/// <c>StreamServer.StopAsync</c>) returns <see cref="Task"/>.
/// </remarks>
public sealed class DatagramSocket : IDisposable
{
    private readonly LoopSocket _socket;
    private ReceiveFromOperation? _cachedReceive;
    private SendToOperation? _cachedSend;
    private readonly string? _unixPath;
    private EndPoint? _lastSender;
    private bool _disposed;

    /// <summary>Binds a socket to <paramref name="endPoint"/>, or, with <paramref name="connect"/>, connects an unbound one to it.</summary>
    internal DatagramSocket(Loop loop, EndPoint endPoint, bool connect = false)
    {
        AddressFamily family = endPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : endPoint.AddressFamily;
        SocketError error = SocketPal.CreateSocket(family, SocketType.Dgram, out int fd);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, connect ? "connect to" : "bind", endPoint);
        }

        if (connect)
        {
            // The kernel picks the local address and port.
            try
            {
                ConnectCore(fd, endPoint);
            }
            catch
            {
                SocketPal.Close(fd);
                throw;
            }
        }
        else
        {
            try
            {
                // A stale socket file is replaced, and the file is removed on dispose, as a listener does.
                _unixPath = endPoint is UnixDomainSocketEndPoint unix ? UnixSocketFile.Prepare(unix, SocketType.Dgram) : null;
            }
            catch
            {
                SocketPal.Close(fd);
                throw;
            }

            error = SocketPal.Bind(fd, endPoint);
            if (error != SocketError.Success)
            {
                SocketPal.Close(fd);
                NetThrowHelper.ThrowSocketException(error, "bind", endPoint);
            }
        }

        SocketPal.GetLocalEndPoint(fd, out EndPoint? local);
        LocalEndPoint = local ?? (connect ? UnnamedEndPoint.Instance : endPoint);
        _socket = new LoopSocket(loop, fd, IoEvents.Read | IoEvents.Write);
        _cachedReceive = new ReceiveFromOperation(this, _socket);
        _cachedSend = new SendToOperation(this, _socket);
    }

    /// <summary>
    /// The local address: the bound one (for port 0, with the port the kernel chose), or for a socket
    /// made by <see cref="LoopNetExtensions.ConnectDatagram"/> the one the kernel chose
    /// (<see cref="UnnamedEndPoint.Instance"/> for a Unix socket, which has none).
    /// </summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The peer set by <see cref="Connect"/> or <see cref="LoopNetExtensions.ConnectDatagram"/>; null when there is none.</summary>
    public EndPoint? RemoteEndPoint { get; private set; }

    /// <summary>The loop the socket runs on.</summary>
    public Loop Loop => _socket.Loop;

    /// <summary>
    /// Whether datagrams may go to broadcast addresses (<c>SO_BROADCAST</c>, asyncio's
    /// <c>allow_broadcast</c>); false by default, and a send to a broadcast address then fails with
    /// <see cref="SocketError.AccessDenied"/>. Any thread.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="SocketException">The option could not be read or set.</exception>
    public bool EnableBroadcast
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
            return _socket.GetFlag(Interop.Libc.SOL_SOCKET, Interop.Libc.SO_BROADCAST, "SO_BROADCAST");
        }

        set
        {
            ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
            _socket.SetFlag(Interop.Libc.SOL_SOCKET, Interop.Libc.SO_BROADCAST, value, "SO_BROADCAST");
        }
    }

    /// <summary>Sends one datagram to <paramref name="remoteEndPoint"/>, waiting for room in the send buffer if needed. Loop thread.</summary>
    /// <param name="datagram">The datagram.</param>
    /// <param name="remoteEndPoint">The destination (<see cref="IPEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The number of bytes sent (the whole datagram).</returns>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another send is in flight, or not on the loop thread.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.MessageSize"/>).</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, EndPoint remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        return SendCore(datagram, remoteEndPoint, cancellationToken);
    }

    /// <summary>
    /// Sends one datagram to the peer set by <see cref="Connect"/>, waiting for room in the send
    /// buffer if needed. Loop thread.
    /// </summary>
    /// <param name="datagram">The datagram.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The number of bytes sent (the whole datagram).</returns>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="InvalidOperationException">The socket has no peer (use <see cref="SendToAsync"/>), another send is in flight, or not on the loop thread.</exception>
    /// <exception cref="SocketException">
    /// The kernel refused: e.g. <see cref="SocketError.MessageSize"/>, or
    /// <see cref="SocketError.ConnectionRefused"/> when an earlier datagram to the peer was answered by
    /// an ICMP "port unreachable" (the socket stays usable).
    /// </exception>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        if (RemoteEndPoint is null)
        {
            throw new InvalidOperationException("The datagram socket has no peer: call Connect first, or use SendToAsync.");
        }

        return SendCore(datagram, null, cancellationToken);
    }

    /// <summary>
    /// Sets the socket's peer, as <c>connect(2)</c> does for a datagram socket: <see cref="SendAsync"/>
    /// sends to it, only its datagrams are received from then on, and ICMP errors about it (a port
    /// nobody listens on) are reported by the next receive or send as a <see cref="SocketException"/>.
    /// Datagrams from others already queued may still be received. Calling it again changes the peer.
    /// Returns at once (a datagram connect never waits). Loop thread.
    /// </summary>
    /// <param name="remoteEndPoint">The peer: an <see cref="IPEndPoint"/> of the socket's family, or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <exception cref="ArgumentException">The endpoint type is not supported (resolve names first).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. an address of another family, or no route).</exception>
    public void Connect(EndPoint remoteEndPoint)
    {
        ValidateEndPoint(remoteEndPoint, connect: true, nameof(remoteEndPoint));
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        VerifyLoopThread();
        ConnectCore(_socket.Fd, remoteEndPoint);
    }

    /// <summary>
    /// <c>connect(2)</c> on the datagram socket <paramref name="fd"/>: only records the peer, never
    /// waits. Sets <see cref="RemoteEndPoint"/>; throws what the kernel refused.
    /// </summary>
    private void ConnectCore(int fd, EndPoint endPoint)
    {
        SocketError error = SocketPal.Connect(fd, endPoint);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, "connect to", endPoint);
        }

        SocketPal.GetRemoteEndPoint(fd, out EndPoint? peer);
        RemoteEndPoint = peer ?? endPoint;
    }

    /// <summary>Receives one datagram and its sender. Loop thread.</summary>
    /// <param name="buffer">Where the datagram goes; the rest of a larger datagram is discarded (<see cref="DatagramReceiveResult.Truncated"/> says so).</param>
    /// <param name="cancellationToken">Cancels the wait; no datagram is lost.</param>
    /// <returns>The length and the sender.</returns>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in flight, or not on the loop thread.</exception>
    /// <exception cref="SocketException">The kernel reported an error (e.g. ConnectionRefused from an ICMP error).</exception>
    public ValueTask<DatagramReceiveResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable(SocketDirection.Read);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<DatagramReceiveResult>(cancellationToken);
        }

        if (_socket.IsReady(SocketDirection.Read))
        {
            SocketError error = ReceiveCore(buffer.Span, out DatagramReceiveResult result);
            if (error == SocketError.Success)
            {
                return new ValueTask<DatagramReceiveResult>(result);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<DatagramReceiveResult>(NetThrowHelper.CreateSocketException(error, "receive from"));
            }

            _socket.OnWouldBlock(SocketDirection.Read);
        }

        ReceiveFromOperation op = _cachedReceive ?? new ReceiveFromOperation(this, _socket);
        _cachedReceive = null;
        return op.Start(buffer, cancellationToken);
    }

    /// <summary>
    /// Closes the socket; operations in flight complete with <see cref="ObjectDisposedException"/>,
    /// and a Unix socket file is removed. Idempotent; any thread.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            _socket.Loop.RunOrPost(static s => ((DatagramSocket)s!).DisposeCore(), this);
        }
        catch (ObjectDisposedException)
        {
            // Off the loop thread after the loop was disposed: it closed every socket then.
            UnixSocketFile.Delete(_unixPath);
        }
    }

    /// <summary>One recvfrom; reuses the previous sender's EndPoint when the address is the same.</summary>
    internal SocketError ReceiveCore(Span<byte> buffer, out DatagramReceiveResult result)
    {
        Span<byte> address = stackalloc byte[SocketAddressPal.MaxLength];
        SocketError error = SocketPal.ReceiveFrom(_socket.Fd, buffer, address, out int received, out int addressLength, out bool truncated);
        if (error != SocketError.Success)
        {
            result = default;
            return error;
        }

        ReadOnlySpan<byte> sender = address[..addressLength];
        if (!SocketAddressPal.Matches(sender, _lastSender))
        {
            _lastSender = SocketAddressPal.Read(sender) ?? UnnamedEndPoint.Instance;
        }

        result = new DatagramReceiveResult(received, _lastSender!) { Truncated = truncated };
        return SocketError.Success;
    }

    /// <summary>Throws unless <paramref name="endPoint"/> is an address a datagram socket can be bound or connected to.</summary>
    internal static void ValidateEndPoint(EndPoint endPoint, bool connect, string parameter)
    {
        ArgumentNullException.ThrowIfNull(endPoint, parameter);
        if (endPoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException($"Cannot {(connect ? "connect" : "bind")} a datagram socket to a {endPoint.GetType().Name}.", parameter);
        }
    }

    internal void ReturnReceive(ReceiveFromOperation op) => _cachedReceive ??= op;

    /// <summary>One send to <paramref name="destination"/>, or to the peer when it is null.</summary>
    private ValueTask<int> SendCore(ReadOnlyMemory<byte> datagram, EndPoint? destination, CancellationToken cancellationToken)
    {
        ThrowIfUnusable(SocketDirection.Write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (_socket.IsReady(SocketDirection.Write))
        {
            SocketError error = SocketPal.SendTo(_socket.Fd, datagram.Span, destination, out int sent);
            if (error == SocketError.Success)
            {
                return new ValueTask<int>(sent);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<int>(CreateSendException(error, destination));
            }

            _socket.OnWouldBlock(SocketDirection.Write);
        }

        SendToOperation op = _cachedSend ?? new SendToOperation(this, _socket);
        _cachedSend = null;
        return op.Start(datagram, destination, cancellationToken);
    }

    /// <summary>A failed send's exception, naming where the datagram went.</summary>
    internal SocketException CreateSendException(SocketError error, EndPoint? destination) =>
        NetThrowHelper.CreateSocketException(error, "send to", destination ?? RemoteEndPoint);

    internal void ReturnSend(SendToOperation op) => _cachedSend ??= op;

    private void DisposeCore()
    {
        if (!_disposed)
        {
            _disposed = true;
            _socket.Close(nameof(DatagramSocket));
            UnixSocketFile.Delete(_unixPath);
        }
    }

    private void VerifyLoopThread()
    {
        if (!_socket.Loop.CheckAccess())
        {
            throw new InvalidOperationException("DatagramSocket operations run on the loop thread.");
        }
    }

    private void ThrowIfUnusable(SocketDirection direction)
    {
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        VerifyLoopThread();
        if (_socket.IsBusy(direction))
        {
            throw new InvalidOperationException(direction == SocketDirection.Read
                ? "Another receive is already in flight on this socket."
                : "Another send is already in flight on this socket.");
        }
    }
}
