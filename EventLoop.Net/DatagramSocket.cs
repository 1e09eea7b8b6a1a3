using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

/// <summary>
/// A bound datagram socket (UDP over IPv4/IPv6, or Unix datagram) on a loop; create it with
/// <see cref="LoopNetExtensions.BindDatagram"/>. One receive and one send may be in flight at a time.
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

    internal DatagramSocket(Loop loop, EndPoint endPoint)
    {
        AddressFamily family = endPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : endPoint.AddressFamily;
        SocketError error = SocketPal.CreateSocket(family, SocketType.Dgram, out int fd);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, "bind", endPoint);
        }

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

        SocketPal.GetLocalEndPoint(fd, out EndPoint? local);
        LocalEndPoint = local ?? endPoint;
        _socket = new LoopSocket(loop, fd, IoEvents.Read | IoEvents.Write);
        _cachedReceive = new ReceiveFromOperation(this, _socket);
        _cachedSend = new SendToOperation(this, _socket);
    }

    /// <summary>The bound address; for port 0, the port the kernel chose.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The loop the socket runs on.</summary>
    public Loop Loop => _socket.Loop;

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
        ThrowIfUnusable(SocketDirection.Write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (_socket.IsReady(SocketDirection.Write))
        {
            SocketError error = SocketPal.SendTo(_socket.Fd, datagram.Span, remoteEndPoint, out int sent);
            if (error == SocketError.Success)
            {
                return new ValueTask<int>(sent);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<int>(NetThrowHelper.CreateSocketException(error, "send to", remoteEndPoint));
            }

            _socket.OnWouldBlock(SocketDirection.Write);
        }

        SendToOperation op = _cachedSend ?? new SendToOperation(this, _socket);
        _cachedSend = null;
        return op.Start(datagram, remoteEndPoint, cancellationToken);
    }

    /// <summary>Receives one datagram and its sender. Loop thread.</summary>
    /// <param name="buffer">Where the datagram goes; the rest of a larger datagram is discarded.</param>
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
        SocketError error = SocketPal.ReceiveFrom(_socket.Fd, buffer, address, out int received, out int addressLength);
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

        result = new DatagramReceiveResult(received, _lastSender!);
        return SocketError.Success;
    }

    internal void ReturnReceive(ReceiveFromOperation op) => _cachedReceive ??= op;

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

    private void ThrowIfUnusable(SocketDirection direction)
    {
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        if (!_socket.Loop.CheckAccess())
        {
            throw new InvalidOperationException("DatagramSocket operations run on the loop thread.");
        }

        if (_socket.IsBusy(direction))
        {
            throw new InvalidOperationException(direction == SocketDirection.Read
                ? "Another receive is already in flight on this socket."
                : "Another send is already in flight on this socket.");
        }
    }
}
