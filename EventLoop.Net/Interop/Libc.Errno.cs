namespace EventLoop.Net.Interop;

// Linux errno values (asm-generic/errno-base.h and asm-generic/errno.h), limited to the ones
// socket calls can return. SocketErrorPal.FromErrno is the only place that interprets them.

internal static partial class Libc
{
    /// <summary>Operation not permitted.</summary>
    internal const int EPERM = 1;

    /// <summary>No such file or directory (Unix socket path).</summary>
    internal const int ENOENT = 2;

    /// <summary>Interrupted system call.</summary>
    internal const int EINTR = 4;

    /// <summary>No such device or address.</summary>
    internal const int ENXIO = 6;

    /// <summary>Bad file descriptor.</summary>
    internal const int EBADF = 9;

    /// <summary>Try again; same value as EWOULDBLOCK on Linux.</summary>
    internal const int EAGAIN = 11;

    /// <summary>Out of memory.</summary>
    internal const int ENOMEM = 12;

    /// <summary>Permission denied.</summary>
    internal const int EACCES = 13;

    /// <summary>Bad address.</summary>
    internal const int EFAULT = 14;

    /// <summary>Not a directory (Unix socket path).</summary>
    internal const int ENOTDIR = 20;

    /// <summary>Invalid argument.</summary>
    internal const int EINVAL = 22;

    /// <summary>File table overflow (system-wide descriptor limit).</summary>
    internal const int ENFILE = 23;

    /// <summary>Too many open files (per-process descriptor limit).</summary>
    internal const int EMFILE = 24;

    /// <summary>Broken pipe: the connection is shut down for sending.</summary>
    internal const int EPIPE = 32;

    /// <summary>File name too long (Unix socket path).</summary>
    internal const int ENAMETOOLONG = 36;

    /// <summary>No data available.</summary>
    internal const int ENODATA = 61;

    /// <summary>Socket operation on non-socket.</summary>
    internal const int ENOTSOCK = 88;

    /// <summary>Destination address required.</summary>
    internal const int EDESTADDRREQ = 89;

    /// <summary>Message too long.</summary>
    internal const int EMSGSIZE = 90;

    /// <summary>Protocol wrong type for socket.</summary>
    internal const int EPROTOTYPE = 91;

    /// <summary>Protocol not available (bad socket option).</summary>
    internal const int ENOPROTOOPT = 92;

    /// <summary>Protocol not supported.</summary>
    internal const int EPROTONOSUPPORT = 93;

    /// <summary>Socket type not supported.</summary>
    internal const int ESOCKTNOSUPPORT = 94;

    /// <summary>Operation not supported; same value as ENOTSUP on Linux.</summary>
    internal const int EOPNOTSUPP = 95;

    /// <summary>Protocol family not supported.</summary>
    internal const int EPFNOSUPPORT = 96;

    /// <summary>Address family not supported by protocol.</summary>
    internal const int EAFNOSUPPORT = 97;

    /// <summary>Address already in use.</summary>
    internal const int EADDRINUSE = 98;

    /// <summary>Cannot assign requested address.</summary>
    internal const int EADDRNOTAVAIL = 99;

    /// <summary>Network is down.</summary>
    internal const int ENETDOWN = 100;

    /// <summary>Network is unreachable.</summary>
    internal const int ENETUNREACH = 101;

    /// <summary>Network dropped connection on reset.</summary>
    internal const int ENETRESET = 102;

    /// <summary>Software caused connection abort (e.g. a pending connection reset before accept).</summary>
    internal const int ECONNABORTED = 103;

    /// <summary>Connection reset by peer.</summary>
    internal const int ECONNRESET = 104;

    /// <summary>No buffer space available.</summary>
    internal const int ENOBUFS = 105;

    /// <summary>Transport endpoint is already connected.</summary>
    internal const int EISCONN = 106;

    /// <summary>Transport endpoint is not connected.</summary>
    internal const int ENOTCONN = 107;

    /// <summary>Cannot send after transport endpoint shutdown.</summary>
    internal const int ESHUTDOWN = 108;

    /// <summary>Connection timed out.</summary>
    internal const int ETIMEDOUT = 110;

    /// <summary>Connection refused.</summary>
    internal const int ECONNREFUSED = 111;

    /// <summary>Host is down.</summary>
    internal const int EHOSTDOWN = 112;

    /// <summary>No route to host.</summary>
    internal const int EHOSTUNREACH = 113;

    /// <summary>Operation already in progress (a second connect on a connecting socket).</summary>
    internal const int EALREADY = 114;

    /// <summary>Operation now in progress (non-blocking connect started).</summary>
    internal const int EINPROGRESS = 115;

    /// <summary>Operation canceled.</summary>
    internal const int ECANCELED = 125;
}
