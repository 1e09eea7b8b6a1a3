using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

/// <summary>Networking on a <see cref="Loop"/>: listen, connect and bind datagram sockets whose I/O runs on the loop's own poller.</summary>
/// <remarks>
/// Return types follow one rule: a socket operation on a pooled source that often completes
/// synchronously and is awaited once (receive, send, accept, datagram receive and send) returns
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>, so a warm one allocates nothing;
/// await it once, or call <c>AsTask()</c>. A composite operation that allocates anyway and may be
/// awaited many times or from other threads (<c>ConnectAsync</c>: resolution, several attempts;
/// <c>StreamServer.StopAsync</c>) returns <see cref="Task"/>.
/// </remarks>
public static class LoopNetExtensions
{
    /// <summary>Listens for stream connections on <paramref name="endpoint"/>. Loop thread (or before the loop runs).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (IPv4 or IPv6; port 0 picks a free port) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="backlog">The accept queue length; positive.</param>
    /// <returns>The listener.</returns>
    /// <exception cref="ArgumentException">The endpoint type is not supported.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backlog"/> is not positive.</exception>
    /// <exception cref="SocketException">Binding or listening failed (e.g. <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public static StreamListener Listen(this Loop loop, EndPoint endpoint, int backlog = 512)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backlog);
        return Listen(loop, endpoint, new ListenOptions { Backlog = backlog });
    }

    /// <summary>Listens for stream connections on <paramref name="endpoint"/> with <paramref name="options"/>. Loop thread (or before the loop runs).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>; a stale Unix socket file is replaced.</param>
    /// <param name="options">Backlog and SO_REUSEPORT.</param>
    /// <returns>The listener.</returns>
    /// <exception cref="ArgumentException">The endpoint type is not supported.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListenOptions.Backlog"/> is not positive.</exception>
    /// <exception cref="SocketException">Binding or listening failed.</exception>
    public static StreamListener Listen(this Loop loop, EndPoint endpoint, ListenOptions options)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Backlog <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Backlog, "ListenOptions.Backlog must be positive.");
        }

        if (endpoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException($"Cannot listen on a {endpoint.GetType().Name}; use an IPEndPoint or a UnixDomainSocketEndPoint.", nameof(endpoint));
        }

        VerifySetUpAccess(loop);
        return new StreamListener(loop, endpoint, options);
    }

    /// <summary>
    /// Connects a stream socket to <paramref name="endpoint"/>. A <see cref="DnsEndPoint"/> is
    /// resolved off the loop thread (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>)
    /// and its addresses are tried in order. Any thread: off the loop the work is posted to it.
    /// </summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/>, <see cref="UnixDomainSocketEndPoint"/> or <see cref="DnsEndPoint"/>.</param>
    /// <param name="cancellationToken">Cancels the attempt; the socket is closed.</param>
    /// <returns>The connection (TCP connections have <c>TCP_NODELAY</c> set).</returns>
    /// <exception cref="ArgumentException">The endpoint type is not supported.</exception>
    /// <exception cref="SocketException">The connection failed (ConnectionRefused, TimedOut, HostNotFound...).</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the awaiting greenlet was killed.</exception>
    public static Task<StreamConnection> ConnectAsync(this Loop loop, EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint is not (IPEndPoint or UnixDomainSocketEndPoint or DnsEndPoint))
        {
            throw new ArgumentException($"Cannot connect to a {endpoint.GetType().Name}.", nameof(endpoint));
        }

        if (Loop.Current == loop)
        {
            return ConnectCoreAsync(loop, endpoint, cancellationToken);
        }

        return LoopInvoke.RunAsync(loop, () => new ValueTask<StreamConnection>(ConnectCoreAsync(loop, endpoint, cancellationToken)));
    }

    /// <summary>Binds a datagram (UDP, or Unix datagram) socket to <paramref name="endpoint"/>. Loop thread (or before the loop runs).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">
    /// An <see cref="IPEndPoint"/> (port 0 picks a free port) or a <see cref="UnixDomainSocketEndPoint"/>
    /// (a stale socket file is replaced, and the file is removed when the socket is disposed).
    /// </param>
    /// <returns>The socket.</returns>
    /// <exception cref="ArgumentException">The endpoint type is not supported.</exception>
    /// <exception cref="SocketException">Binding failed.</exception>
    public static DatagramSocket BindDatagram(this Loop loop, EndPoint endpoint) => CreateDatagram(loop, endpoint, connect: false, nameof(endpoint));

    /// <summary>
    /// Creates a datagram socket whose peer is <paramref name="remoteEndPoint"/>, as asyncio's
    /// <c>create_datagram_endpoint(remote_addr=…)</c>: the kernel picks the local address and port
    /// (<see cref="DatagramSocket.LocalEndPoint"/>), <see cref="DatagramSocket.SendAsync"/> sends to
    /// the peer, only the peer's datagrams are received, and ICMP errors about it come back as
    /// <see cref="SocketException"/>s. A Unix socket made this way has no name, so its peer cannot
    /// answer: to be answered, bind with <see cref="BindDatagram"/> and call
    /// <see cref="DatagramSocket.Connect"/>. Never waits. Loop thread (or before the loop runs).
    /// </summary>
    /// <param name="loop">The loop.</param>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/> (resolve names first).</param>
    /// <returns>The socket.</returns>
    /// <exception cref="ArgumentException">The endpoint type is not supported.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. no route, or no Unix socket at that path).</exception>
    public static DatagramSocket ConnectDatagram(this Loop loop, EndPoint remoteEndPoint) => CreateDatagram(loop, remoteEndPoint, connect: true, nameof(remoteEndPoint));

    private static DatagramSocket CreateDatagram(Loop loop, EndPoint endpoint, bool connect, string parameter)
    {
        ArgumentNullException.ThrowIfNull(loop);
        DatagramSocket.ValidateEndPoint(endpoint, connect, parameter);
        VerifySetUpAccess(loop);
        return new DatagramSocket(loop, endpoint, connect);
    }

    private static async Task<StreamConnection> ConnectCoreAsync(Loop loop, EndPoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint is not DnsEndPoint dns)
        {
            return await ConnectOneAsync(loop, endpoint, cancellationToken).ConfigureAwait(true);
        }

        if (IPAddress.TryParse(dns.Host, out IPAddress? literal))
        {
            return await ConnectOneAsync(loop, new IPEndPoint(literal, dns.Port), cancellationToken).ConfigureAwait(true);
        }

        // Resolution blocks in getaddrinfo, so it runs on the thread pool; the loop's context
        // brings the continuation back to the loop thread.
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, dns.AddressFamily, cancellationToken).ConfigureAwait(true);
        if (addresses.Length == 0)
        {
            NetThrowHelper.ThrowSocketException(SocketError.HostNotFound, "connect to", dns);
        }

        SocketException? last = null;
        foreach (IPAddress address in addresses)
        {
            try
            {
                return await ConnectOneAsync(loop, new IPEndPoint(address, dns.Port), cancellationToken).ConfigureAwait(true);
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

    private static async Task<StreamConnection> ConnectOneAsync(Loop loop, EndPoint endpoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        bool isUnix = endpoint is UnixDomainSocketEndPoint;
        AddressFamily family = isUnix ? AddressFamily.Unix : endpoint.AddressFamily;
        SocketError error = SocketPal.CreateSocket(family, SocketType.Stream, out int fd);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, "connect to", endpoint);
        }

        error = SocketPal.Connect(fd, endpoint);
        if (error == SocketError.Success)
        {
            return new StreamConnection(loop, fd, isUnix);
        }

        if (error != SocketError.InProgress)
        {
            SocketPal.Close(fd);

            // A Unix listener with a full backlog answers EAGAIN; report it as the refusal it is.
            NetThrowHelper.ThrowSocketException(error == SocketError.WouldBlock ? SocketError.ConnectionRefused : error, "connect to", endpoint);
        }

        // Registered only now: epoll reports an unconnected TCP socket as hung up.
        var socket = new LoopSocket(loop, fd, IoEvents.Read | IoEvents.Write);
        try
        {
            await new ConnectOperation(socket, endpoint).Start(cancellationToken).ConfigureAwait(true);
        }
        catch
        {
            socket.Close(nameof(StreamConnection));
            throw;
        }

        return new StreamConnection(socket, isUnix);
    }

    // Set-up calls follow the loop's rule for them: any thread while nobody runs the loop (before
    // it first runs, or between runs), else only the loop thread.
    private static void VerifySetUpAccess(Loop loop)
    {
        if (loop.IsRunning && !loop.CheckAccess())
        {
            loop.VerifyAccess(); // throws the loop's own wrong-thread exception
        }

        ObjectDisposedException.ThrowIf(loop.IsDisposed, loop);
    }
}
