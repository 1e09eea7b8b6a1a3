using System.Net.Sockets;
using static EventLoop.Net.Interop.Libc;

namespace EventLoop.Net;

/// <summary>Translates Linux errno values into <see cref="SocketError"/>.</summary>
internal static class SocketErrorPal
{
    /// <summary>
    /// Maps <paramref name="errno"/> to the <see cref="SocketError"/> that .NET's own socket layer reports
    /// for it, so exceptions built from our codes read the same as <see cref="Socket"/>'s. Zero is
    /// <see cref="SocketError.Success"/>; a value with no socket meaning is <see cref="SocketError.SocketError"/>.
    /// </summary>
    /// <remarks>
    /// Choices that are not one-to-one:
    /// EPIPE and ESHUTDOWN → <see cref="SocketError.Shutdown"/>: the send direction is gone, either because
    /// we shut it down or because the peer reset the connection and the reset was already reported once
    /// as ECONNRESET. Callers that only care "the peer is gone" should treat Shutdown and ConnectionReset alike.
    /// EBADF and ECANCELED → <see cref="SocketError.OperationAborted"/>: on this loop an invalid descriptor means
    /// the socket was closed under a pending operation, which is what .NET reports for a disposed socket.
    /// ENOMEM → <see cref="SocketError.NoBufferSpaceAvailable"/>: the kernel ran out of socket memory.
    /// ENOENT, ENOTDIR, ENAMETOOLONG → <see cref="SocketError.AddressNotAvailable"/>: a Unix socket path that does not resolve.
    /// </remarks>
    /// <param name="errno">A value read with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.</param>
    internal static SocketError FromErrno(int errno) => errno switch
    {
        0 => SocketError.Success,
        EAGAIN => SocketError.WouldBlock,
        EINTR => SocketError.Interrupted,
        EINPROGRESS => SocketError.InProgress,
        EALREADY => SocketError.AlreadyInProgress,
        ECONNRESET => SocketError.ConnectionReset,
        ECONNREFUSED => SocketError.ConnectionRefused,
        ECONNABORTED => SocketError.ConnectionAborted,
        ETIMEDOUT => SocketError.TimedOut,
        EPIPE or ESHUTDOWN => SocketError.Shutdown,
        EMFILE or ENFILE => SocketError.TooManyOpenSockets,
        EADDRINUSE => SocketError.AddressAlreadyInUse,
        EADDRNOTAVAIL or ENOENT or ENOTDIR or ENAMETOOLONG => SocketError.AddressNotAvailable,
        EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        EPFNOSUPPORT => SocketError.ProtocolFamilyNotSupported,
        ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
        EBADF or ECANCELED => SocketError.OperationAborted,
        ENOTSOCK => SocketError.NotSocket,
        ENOTCONN => SocketError.NotConnected,
        EISCONN => SocketError.IsConnected,
        EHOSTUNREACH => SocketError.HostUnreachable,
        EHOSTDOWN => SocketError.HostDown,
        ENXIO => SocketError.HostNotFound,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ENETDOWN => SocketError.NetworkDown,
        ENETRESET => SocketError.NetworkReset,
        EACCES or EPERM => SocketError.AccessDenied,
        EINVAL => SocketError.InvalidArgument,
        EFAULT => SocketError.Fault,
        EMSGSIZE => SocketError.MessageSize,
        ENODATA => SocketError.NoData,
        EDESTADDRREQ => SocketError.DestinationAddressRequired,
        ENOPROTOOPT => SocketError.ProtocolOption,
        EPROTONOSUPPORT => SocketError.ProtocolNotSupported,
        EPROTOTYPE => SocketError.ProtocolType,
        ESOCKTNOSUPPORT => SocketError.SocketNotSupported,
        EOPNOTSUPP => SocketError.OperationNotSupported,
        _ => SocketError.SocketError,
    };
}
