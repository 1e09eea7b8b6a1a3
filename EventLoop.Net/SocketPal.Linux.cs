using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventLoop.Net.Interop;

namespace EventLoop.Net;

// Design note: the raw, non-blocking socket layer the stream and datagram types drive from the
// loop. Rules every method follows:
//  * Never throws for anything the kernel reports: the result is a SocketError (Success on
//    success) plus out values; callers decide what is fatal. Out descriptors are -1 on failure.
//  * EINTR is retried here, so callers never see Interrupted — except from connect, where
//    POSIX says the connection carries on asynchronously, so EINTR is reported as InProgress,
//    and close, which Linux must never retry (the descriptor is already gone and may have been
//    reused by another thread).
//  * Every descriptor is created with SOCK_NONBLOCK | SOCK_CLOEXEC atomically, so no socket
//    ever blocks the loop thread and none leaks into a child process between socket() and fcntl().
//  * WouldBlock is the normal "wait for readiness" answer, not an error.
//  * No allocation on the data path (Receive/Send/ReceiveFrom/SendTo with native address spans,
//    Accept without the peer address); the EndPoint overloads allocate the EndPoint only.

/// <summary>Raw non-blocking socket system calls for Linux, returning <see cref="SocketError"/>.</summary>
internal static unsafe partial class SocketPal
{
    private const int SocketFlags = Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC;

    /// <summary>Creates a non-blocking, close-on-exec socket.</summary>
    /// <param name="addressFamily"><see cref="AddressFamily.InterNetwork"/>, <see cref="AddressFamily.InterNetworkV6"/> or <see cref="AddressFamily.Unix"/>.</param>
    /// <param name="socketType"><see cref="SocketType.Stream"/>, <see cref="SocketType.Dgram"/> or <see cref="SocketType.Seqpacket"/>.</param>
    /// <param name="fd">The new descriptor, or -1.</param>
    /// <returns>Success; AddressFamilyNotSupported / SocketNotSupported for values outside the lists above; else the mapped errno (e.g. TooManyOpenSockets).</returns>
    internal static SocketError CreateSocket(AddressFamily addressFamily, SocketType socketType, out int fd)
    {
        fd = -1;
        SocketError error = ToNative(addressFamily, socketType, out int domain, out int type);
        if (error != SocketError.Success)
        {
            return error;
        }

        int result;
        do
        {
            result = Libc.socket(domain, type | SocketFlags, 0);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        if (result < 0)
        {
            return LastError();
        }

        fd = result;
        return SocketError.Success;
    }

    /// <summary>Creates a connected pair of non-blocking, close-on-exec Unix domain sockets.</summary>
    /// <param name="socketType">Stream, Dgram or Seqpacket.</param>
    /// <param name="fd0">The first end, or -1.</param>
    /// <param name="fd1">The second end, or -1.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError CreateSocketPair(SocketType socketType, out int fd0, out int fd1)
    {
        fd0 = fd1 = -1;
        SocketError error = ToNative(AddressFamily.Unix, socketType, out int domain, out int type);
        if (error != SocketError.Success)
        {
            return error;
        }

        int* pair = stackalloc int[2];
        int result;
        do
        {
            result = Libc.socketpair(domain, type | SocketFlags, 0, pair);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        if (result < 0)
        {
            return LastError();
        }

        fd0 = pair[0];
        fd1 = pair[1];
        return SocketError.Success;
    }

    /// <summary>Binds <paramref name="fd"/> to <paramref name="endPoint"/>.</summary>
    /// <param name="fd">A socket descriptor.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <returns>Success; an address encoding error (see <see cref="SocketAddressPal.Write"/>); else the mapped errno (e.g. AddressAlreadyInUse).</returns>
    internal static SocketError Bind(int fd, EndPoint endPoint)
    {
        byte* address = stackalloc byte[SocketAddressPal.MaxLength];
        SocketError error = SocketAddressPal.Write(endPoint, new Span<byte>(address, SocketAddressPal.MaxLength), out int length);
        if (error != SocketError.Success)
        {
            return error;
        }

        int result;
        do
        {
            result = Libc.bind(fd, address, length);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        return result < 0 ? LastError() : SocketError.Success;
    }

    /// <summary>Marks a bound stream socket as listening.</summary>
    /// <param name="fd">A bound socket.</param>
    /// <param name="backlog">Queue length; the kernel silently caps it at <c>net.core.somaxconn</c>.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError Listen(int fd, int backlog)
    {
        int result = Libc.listen(fd, backlog);
        return result < 0 ? LastError() : SocketError.Success;
    }

    /// <summary>
    /// Accepts one pending connection as a non-blocking, close-on-exec descriptor, without asking for the peer
    /// address (the allocation-free hot path).
    /// </summary>
    /// <param name="fd">A listening socket.</param>
    /// <param name="acceptedFd">The connection, or -1.</param>
    /// <returns>
    /// Success; WouldBlock when none is pending; ConnectionAborted when a queued connection was reset before
    /// it was accepted (just accept again); TooManyOpenSockets at the descriptor limit (the connection stays
    /// queued); else the mapped errno.
    /// </returns>
    internal static SocketError Accept(int fd, out int acceptedFd) => AcceptCore(fd, null, null, out acceptedFd);

    /// <summary>Like <see cref="Accept(int, out int)"/>, and also decodes the peer address.</summary>
    /// <param name="fd">A listening socket.</param>
    /// <param name="acceptedFd">The connection, or -1.</param>
    /// <param name="remoteEndPoint">The peer; null on failure or for an unnamed Unix peer.</param>
    /// <returns>As <see cref="Accept(int, out int)"/>.</returns>
    internal static SocketError Accept(int fd, out int acceptedFd, out EndPoint? remoteEndPoint)
    {
        byte* address = stackalloc byte[SocketAddressPal.MaxLength];
        int length = SocketAddressPal.MaxLength;
        SocketError error = AcceptCore(fd, address, &length, out acceptedFd);
        remoteEndPoint = error == SocketError.Success
            ? SocketAddressPal.Read(new ReadOnlySpan<byte>(address, Math.Min(length, SocketAddressPal.MaxLength)))
            : null;
        return error;
    }

    /// <summary>Starts connecting <paramref name="fd"/> to <paramref name="endPoint"/> without blocking.</summary>
    /// <param name="fd">A socket descriptor.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <returns>
    /// InProgress when the connection completes later: wait until the socket is writable, then read the
    /// outcome with <see cref="GetSocketError"/>. Success when it completed at once (typical for Unix sockets).
    /// WouldBlock for a Unix socket whose listener's backlog is full. Else the mapped errno (e.g. ConnectionRefused).
    /// </returns>
    internal static SocketError Connect(int fd, EndPoint endPoint)
    {
        byte* address = stackalloc byte[SocketAddressPal.MaxLength];
        SocketError error = SocketAddressPal.Write(endPoint, new Span<byte>(address, SocketAddressPal.MaxLength), out int length);
        if (error != SocketError.Success)
        {
            return error;
        }

        if (Libc.connect(fd, address, length) == 0)
        {
            return SocketError.Success;
        }

        int errno = Marshal.GetLastPInvokeError();

        // Retrying an interrupted connect would report EALREADY; the attempt itself goes on in the
        // background (POSIX connect(2)), exactly like EINPROGRESS.
        return errno == Libc.EINTR ? SocketError.InProgress : SocketErrorPal.FromErrno(errno);
    }

    /// <summary>Reads and clears the socket's pending error (<c>SO_ERROR</c>): the outcome of a non-blocking connect.</summary>
    /// <param name="fd">A socket descriptor.</param>
    /// <param name="socketError">The pending error mapped to a SocketError; Success when there is none.</param>
    /// <returns>Whether the getsockopt call itself succeeded.</returns>
    internal static SocketError GetSocketError(int fd, out SocketError socketError)
    {
        SocketError result = GetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, out int errno);
        socketError = result == SocketError.Success ? SocketErrorPal.FromErrno(errno) : SocketError.SocketError;
        return result;
    }

    /// <summary>Receives into <paramref name="buffer"/> without blocking.</summary>
    /// <param name="fd">A connected socket.</param>
    /// <param name="buffer">Destination. An empty buffer also yields 0 bytes, so don't pass one when 0 must mean end of stream.</param>
    /// <param name="bytes">Bytes received; 0 with Success means the peer shut down its sending side.</param>
    /// <returns>Success; WouldBlock when no data is queued; ConnectionReset; else the mapped errno.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // a stream connection's fast path: see the design note in Libc.DataPath.cs
    internal static SocketError Receive(int fd, Span<byte> buffer, out int bytes)
    {
        nint result;
        int errno;
        fixed (byte* data = buffer)
        {
            do
            {
                result = Libc.ReceiveNoWait(fd, data, (nuint)buffer.Length, 0);
                errno = result < 0 ? Marshal.GetLastSystemError() : 0;
            }
            while (errno == Libc.EINTR);
        }

        return Complete(result, errno, out bytes);
    }

    /// <summary>
    /// Peeks one byte without consuming it: Success once data or end of stream is queued (a zero-byte
    /// receive's "wait until readable"), WouldBlock while nothing is.
    /// </summary>
    /// <param name="fd">A connected socket.</param>
    /// <returns>Success; WouldBlock; ConnectionReset; else the mapped errno.</returns>
    internal static SocketError Peek(int fd)
    {
        byte data;
        nint result;
        do
        {
            result = Libc.recv(fd, &data, 1, Libc.MSG_PEEK);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        return Complete(result, out _);
    }

    /// <summary>
    /// Sends as much of <paramref name="buffer"/> as the kernel accepts now, with <c>MSG_NOSIGNAL</c> so a
    /// vanished peer is reported as an error instead of a SIGPIPE.
    /// </summary>
    /// <param name="fd">A connected socket.</param>
    /// <param name="buffer">Data to send; may be accepted partially.</param>
    /// <param name="bytes">Bytes the kernel took (may be fewer than requested).</param>
    /// <returns>
    /// Success; WouldBlock when the send buffer is full; ConnectionReset when the peer reset the connection
    /// (reported once), then Shutdown (EPIPE) for every later send; else the mapped errno.
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // a stream connection's fast path: see the design note in Libc.DataPath.cs
    internal static SocketError Send(int fd, ReadOnlySpan<byte> buffer, out int bytes)
    {
        nint result;
        int errno;
        fixed (byte* data = buffer)
        {
            do
            {
                result = Libc.SendNoWait(fd, data, (nuint)buffer.Length, Libc.MSG_NOSIGNAL);
                errno = result < 0 ? Marshal.GetLastSystemError() : 0;
            }
            while (errno == Libc.EINTR);
        }

        return Complete(result, errno, out bytes);
    }

    /// <summary>
    /// Receives one datagram and the sender's native address, without allocating. Decode the address with
    /// <see cref="SocketAddressPal.Read"/>, or first compare it with the previous sender through
    /// <see cref="SocketAddressPal.Matches"/> to reuse that endpoint.
    /// </summary>
    /// <param name="fd">A datagram socket.</param>
    /// <param name="buffer">Destination; the rest of a larger datagram is discarded.</param>
    /// <param name="address">Receives the sender's sockaddr; <see cref="SocketAddressPal.MaxLength"/> bytes fit any.</param>
    /// <param name="bytes">Bytes received (at most the buffer's length).</param>
    /// <param name="addressLength">Length of the sender's address written to <paramref name="address"/> (0 if none).</param>
    /// <param name="truncated">Whether the datagram was longer than the buffer (<c>MSG_TRUNC</c> reports its whole length).</param>
    /// <returns>Success; WouldBlock when no datagram is queued; else the mapped errno.</returns>
    internal static SocketError ReceiveFrom(int fd, Span<byte> buffer, Span<byte> address, out int bytes, out int addressLength, out bool truncated)
    {
        int length = address.Length;
        nint result;
        fixed (byte* data = buffer)
        fixed (byte* from = address)
        {
            do
            {
                length = address.Length;
                // MSG_TRUNC: the result is the datagram's whole length, even when it did not fit.
                result = Libc.recvfrom(fd, data, (nuint)buffer.Length, Libc.MSG_TRUNC, from, &length);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);
        }

        // The kernel reports the full length even when it truncated the address to fit.
        addressLength = result < 0 ? 0 : Math.Min(length, address.Length);
        truncated = result > buffer.Length;
        return Complete(truncated ? buffer.Length : result, out bytes);
    }

    /// <summary>Receives one datagram and decodes the sender (allocates the endpoint).</summary>
    /// <param name="fd">A datagram socket.</param>
    /// <param name="buffer">Destination.</param>
    /// <param name="bytes">Bytes received.</param>
    /// <param name="remoteEndPoint">The sender, or null on failure or for an unnamed Unix sender.</param>
    /// <returns>As the native-address overload.</returns>
    internal static SocketError ReceiveFrom(int fd, Span<byte> buffer, out int bytes, out EndPoint? remoteEndPoint)
    {
        Span<byte> address = stackalloc byte[SocketAddressPal.MaxLength];
        SocketError error = ReceiveFrom(fd, buffer, address, out bytes, out int addressLength, out _);
        remoteEndPoint = error == SocketError.Success ? SocketAddressPal.Read(address[..addressLength]) : null;
        return error;
    }

    /// <summary>Sends one datagram to a native address (encode it once with <see cref="SocketAddressPal.Write"/> and reuse it).</summary>
    /// <param name="fd">A datagram socket.</param>
    /// <param name="buffer">The datagram.</param>
    /// <param name="address">The destination sockaddr, sliced to its length; empty sends to the connected peer.</param>
    /// <param name="bytes">Bytes sent.</param>
    /// <returns>Success; WouldBlock; MessageSize when the datagram is too large; else the mapped errno.</returns>
    internal static SocketError SendTo(int fd, ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> address, out int bytes)
    {
        nint result;
        fixed (byte* data = buffer)
        fixed (byte* to = address)
        {
            do
            {
                result = Libc.sendto(fd, data, (nuint)buffer.Length, Libc.MSG_NOSIGNAL, to, address.Length);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);
        }

        return Complete(result, out bytes);
    }

    /// <summary>Sends one datagram to <paramref name="endPoint"/> (encodes the address on the stack each call).</summary>
    /// <param name="fd">A datagram socket.</param>
    /// <param name="buffer">The datagram.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>; null sends to the connected peer.</param>
    /// <param name="bytes">Bytes sent.</param>
    /// <returns>As the native-address overload, or an address encoding error.</returns>
    internal static SocketError SendTo(int fd, ReadOnlySpan<byte> buffer, EndPoint? endPoint, out int bytes)
    {
        if (endPoint is null)
        {
            // No address: sendto(2) with a null address is send(2), to the connected peer.
            return SendTo(fd, buffer, ReadOnlySpan<byte>.Empty, out bytes);
        }

        Span<byte> address = stackalloc byte[SocketAddressPal.MaxLength];
        SocketError error = SocketAddressPal.Write(endPoint, address, out int length);
        if (error != SocketError.Success)
        {
            bytes = 0;
            return error;
        }

        return SendTo(fd, buffer, address[..length], out bytes);
    }

    /// <summary>Shuts down one or both directions; <see cref="SocketShutdown.Send"/> sends FIN after queued data.</summary>
    /// <param name="fd">A connected socket.</param>
    /// <param name="how">Which direction.</param>
    /// <returns>Success; NotConnected if the socket is not (or no longer) connected; else the mapped errno.</returns>
    internal static SocketError Shutdown(int fd, SocketShutdown how)
    {
        int native = how switch
        {
            SocketShutdown.Receive => Libc.SHUT_RD,
            SocketShutdown.Send => Libc.SHUT_WR,
            SocketShutdown.Both => Libc.SHUT_RDWR,
            _ => -1,
        };
        if (native < 0)
        {
            return SocketError.InvalidArgument;
        }

        return Libc.shutdown(fd, native) < 0 ? LastError() : SocketError.Success;
    }

    /// <summary>Enables or disables Nagle's algorithm (<c>TCP_NODELAY</c>).</summary>
    /// <param name="fd">A TCP socket.</param>
    /// <param name="enabled">True to send small segments immediately.</param>
    /// <returns>Success or the mapped errno (OperationNotSupported on a Unix socket).</returns>
    internal static SocketError SetNoDelay(int fd, bool enabled) =>
        SetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, enabled ? 1 : 0);

    /// <summary>Sets <c>SO_LINGER</c>; enabled with 0 seconds makes close send RST instead of FIN.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="enabled">Whether close lingers.</param>
    /// <param name="seconds">How long close lingers for unsent data.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetLinger(int fd, bool enabled, int seconds)
    {
        // struct linger { int l_onoff; int l_linger; }
        int* linger = stackalloc int[2];
        linger[0] = enabled ? 1 : 0;
        linger[1] = seconds;
        return Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_LINGER, linger, 2 * sizeof(int)) < 0 ? LastError() : SocketError.Success;
    }

    /// <summary>Sets <c>SO_REUSEADDR</c> (rebinding a port with connections in TIME_WAIT). Call before <see cref="Bind"/>.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="enabled">The new value.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetReuseAddress(int fd, bool enabled) =>
        SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, enabled ? 1 : 0);

    /// <summary>Sets <c>SO_REUSEPORT</c> (several listeners on one port, balanced by the kernel). Call before <see cref="Bind"/>.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="enabled">The new value.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetReusePort(int fd, bool enabled) =>
        SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, enabled ? 1 : 0);

    /// <summary>Sets <c>IPV6_V6ONLY</c>; false makes an IPv6 socket also serve IPv4 peers. Call before <see cref="Bind"/>.</summary>
    /// <param name="fd">An IPv6 socket.</param>
    /// <param name="enabled">The new value.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetIPv6Only(int fd, bool enabled) =>
        SetIntOption(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, enabled ? 1 : 0);

    /// <summary>Requests a receive buffer size (<c>SO_RCVBUF</c>); Linux doubles the value for bookkeeping.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="size">Requested size in bytes.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetReceiveBufferSize(int fd, int size) =>
        SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, size);

    /// <summary>Requests a send buffer size (<c>SO_SNDBUF</c>); Linux doubles the value for bookkeeping.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="size">Requested size in bytes.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetSendBufferSize(int fd, int size) =>
        SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, size);

    /// <summary>Reads an integer-valued socket option.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="level">Option level (<c>SOL_SOCKET</c>, <c>IPPROTO_TCP</c>, ...).</param>
    /// <param name="name">Option name.</param>
    /// <param name="value">The value, or 0 on failure.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError GetIntOption(int fd, int level, int name, out int value)
    {
        int result = 0;
        int length = sizeof(int);
        if (Libc.getsockopt(fd, level, name, &result, &length) < 0)
        {
            value = 0;
            return LastError();
        }

        value = result;
        return SocketError.Success;
    }

    /// <summary>Sets an integer-valued socket option.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="level">Option level.</param>
    /// <param name="name">Option name.</param>
    /// <param name="value">The value.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError SetIntOption(int fd, int level, int name, int value) =>
        Libc.setsockopt(fd, level, name, &value, sizeof(int)) < 0 ? LastError() : SocketError.Success;

    /// <summary>The address the socket is bound to (<c>getsockname</c>); after binding port 0, the chosen port.</summary>
    /// <param name="fd">A socket.</param>
    /// <param name="endPoint">The address, or null on failure or for an unnamed Unix socket.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError GetLocalEndPoint(int fd, out EndPoint? endPoint)
    {
        byte* address = stackalloc byte[SocketAddressPal.MaxLength];
        int length = SocketAddressPal.MaxLength;
        if (Libc.getsockname(fd, address, &length) < 0)
        {
            endPoint = null;
            return LastError();
        }

        endPoint = SocketAddressPal.Read(new ReadOnlySpan<byte>(address, Math.Min(length, SocketAddressPal.MaxLength)));
        return SocketError.Success;
    }

    /// <summary>The connected peer's address (<c>getpeername</c>).</summary>
    /// <param name="fd">A connected socket.</param>
    /// <param name="endPoint">The peer, or null on failure or for an unnamed Unix peer.</param>
    /// <returns>Success; NotConnected before a connect completes or after a reset; else the mapped errno.</returns>
    internal static SocketError GetRemoteEndPoint(int fd, out EndPoint? endPoint)
    {
        byte* address = stackalloc byte[SocketAddressPal.MaxLength];
        int length = SocketAddressPal.MaxLength;
        if (Libc.getpeername(fd, address, &length) < 0)
        {
            endPoint = null;
            return LastError();
        }

        endPoint = SocketAddressPal.Read(new ReadOnlySpan<byte>(address, Math.Min(length, SocketAddressPal.MaxLength)));
        return SocketError.Success;
    }

    /// <summary>Closes the descriptor. Whatever the result, the descriptor is released and must not be used again.</summary>
    /// <param name="fd">A descriptor this caller owns.</param>
    /// <returns>Success; OperationAborted (EBADF) when it was not open, which means a double close bug; else the mapped errno.</returns>
    internal static SocketError Close(int fd)
    {
        if (Libc.close(fd) == 0)
        {
            return SocketError.Success;
        }

        int errno = Marshal.GetLastPInvokeError();

        // Linux frees the descriptor before it can be interrupted; retrying could close a descriptor
        // another thread has just been given.
        return errno == Libc.EINTR ? SocketError.Success : SocketErrorPal.FromErrno(errno);
    }

    /// <summary>
    /// True when <paramref name="path"/> names a socket file (not followed if a symbolic link);
    /// false for anything else, a missing path, or when the type cannot be read.
    /// </summary>
    /// <param name="path">A file system path.</param>
    /// <returns>Whether the path is a socket.</returns>
    internal static bool IsSocketFile(string path)
    {
        byte[] name = new byte[System.Text.Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
        name[System.Text.Encoding.UTF8.GetBytes(path, name)] = 0;
        byte* buffer = stackalloc byte[Libc.StatxSize];
        try
        {
            fixed (byte* pathname = name)
            {
                if (Libc.statx(Libc.AT_FDCWD, pathname, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE, buffer) != 0)
                {
                    return false;
                }
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false; // a C library without statx: not known to be a socket, so left alone
        }

        ushort mode = *(ushort*)(buffer + Libc.StatxModeOffset);
        return (mode & Libc.FileTypeMask) == Libc.FileTypeSocket;
    }

    /// <summary>Reads the process's open-descriptor limits (<c>RLIMIT_NOFILE</c>).</summary>
    /// <param name="soft">The current (soft) limit; <see cref="ulong.MaxValue"/> means unlimited.</param>
    /// <param name="hard">The ceiling an unprivileged process may raise the soft limit to.</param>
    /// <returns>Success or the mapped errno.</returns>
    internal static SocketError GetOpenFileLimit(out ulong soft, out ulong hard)
    {
        Libc.RLimit limit;
        if (Libc.getrlimit(Libc.RLIMIT_NOFILE, &limit) < 0)
        {
            soft = hard = 0;
            return LastError();
        }

        soft = limit.Current;
        hard = limit.Maximum;
        return SocketError.Success;
    }

    /// <summary>Sets the process's soft open-descriptor limit, keeping the hard limit. Affects every thread.</summary>
    /// <param name="soft">The new soft limit; must not exceed the hard limit.</param>
    /// <returns>Success; InvalidArgument above the hard limit; else the mapped errno.</returns>
    internal static SocketError SetOpenFileLimit(ulong soft)
    {
        Libc.RLimit limit;
        if (Libc.getrlimit(Libc.RLIMIT_NOFILE, &limit) < 0)
        {
            return LastError();
        }

        if (soft > limit.Maximum)
        {
            return SocketError.InvalidArgument;
        }

        limit.Current = soft;
        return Libc.setrlimit(Libc.RLIMIT_NOFILE, &limit) < 0 ? LastError() : SocketError.Success;
    }

    private static SocketError AcceptCore(int fd, byte* address, int* length, out int acceptedFd)
    {
        int result;
        int capacity = length is null ? 0 : *length;
        do
        {
            if (length is not null)
            {
                *length = capacity;
            }

            result = Libc.accept4(fd, address, length, SocketFlags);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);

        if (result < 0)
        {
            acceptedFd = -1;
            return LastError();
        }

        acceptedFd = result;
        return SocketError.Success;
    }

    private static SocketError Complete(nint result, out int bytes) =>
        Complete(result, result < 0 ? Marshal.GetLastPInvokeError() : 0, out bytes);

    private static SocketError Complete(nint result, int errno, out int bytes)
    {
        if (result < 0)
        {
            bytes = 0;
            return SocketErrorPal.FromErrno(errno);
        }

        // Spans are at most int.MaxValue bytes, so the count always fits.
        bytes = (int)result;
        return SocketError.Success;
    }

    private static SocketError LastError() => SocketErrorPal.FromErrno(Marshal.GetLastPInvokeError());

    private static SocketError ToNative(AddressFamily addressFamily, SocketType socketType, out int domain, out int type)
    {
        domain = addressFamily switch
        {
            AddressFamily.InterNetwork => Libc.AF_INET,
            AddressFamily.InterNetworkV6 => Libc.AF_INET6,
            AddressFamily.Unix => Libc.AF_UNIX,
            _ => -1,
        };
        type = socketType switch
        {
            SocketType.Stream => Libc.SOCK_STREAM,
            SocketType.Dgram => Libc.SOCK_DGRAM,
            SocketType.Seqpacket => Libc.SOCK_SEQPACKET,
            _ => -1,
        };

        return domain < 0 ? SocketError.AddressFamilyNotSupported
            : type < 0 ? SocketError.SocketNotSupported
            : SocketError.Success;
    }
}
