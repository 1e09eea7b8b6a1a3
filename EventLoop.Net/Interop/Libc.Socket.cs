using System.Runtime.InteropServices;

namespace EventLoop.Net.Interop;

// Design note: these are the raw Linux socket entry points, bound straight to libc with
// LibraryImport and blittable signatures only (int, nint, nuint, pointers), so the generated
// stubs do no marshalling and allocate nothing. Everything returns the C result unchanged;
// callers read errno through Marshal.GetLastPInvokeError (SetLastError = true) and map it
// with SocketErrorPal. Nothing here retries, throws or interprets a result: SocketPal does.
// Constant values are Linux's (x86-64 and arm64 share them; the generic asm headers differ
// only on mips/sparc/alpha, which .NET does not target).

/// <summary>Raw libc socket system calls and their Linux constants.</summary>
internal static unsafe partial class Libc
{
    // The runtime maps "libc" to the platform C library (libc.so.6 on glibc).
    private const string LibraryName = "libc";

    /// <summary>Unix domain sockets (<c>AF_UNIX</c>).</summary>
    internal const int AF_UNIX = 1;

    /// <summary>IPv4 (<c>AF_INET</c>).</summary>
    internal const int AF_INET = 2;

    /// <summary>IPv6 (<c>AF_INET6</c>).</summary>
    internal const int AF_INET6 = 10;

    /// <summary>Connection-oriented byte stream.</summary>
    internal const int SOCK_STREAM = 1;

    /// <summary>Datagrams.</summary>
    internal const int SOCK_DGRAM = 2;

    /// <summary>Raw protocol access.</summary>
    internal const int SOCK_RAW = 3;

    /// <summary>Connection-oriented, message-boundary-preserving.</summary>
    internal const int SOCK_SEQPACKET = 5;

    /// <summary>Type flag for <see cref="socket"/> and <see cref="accept4"/>: O_NONBLOCK on the new descriptor.</summary>
    internal const int SOCK_NONBLOCK = 0x800;

    /// <summary>Type flag for <see cref="socket"/> and <see cref="accept4"/>: FD_CLOEXEC on the new descriptor.</summary>
    internal const int SOCK_CLOEXEC = 0x80000;

    /// <summary>Socket-level option namespace.</summary>
    internal const int SOL_SOCKET = 1;

    /// <summary>Allow rebinding a local address in TIME_WAIT.</summary>
    internal const int SO_REUSEADDR = 2;

    /// <summary>Socket type (read only).</summary>
    internal const int SO_TYPE = 3;

    /// <summary>Pending error, cleared on read; reports the outcome of a non-blocking connect.</summary>
    internal const int SO_ERROR = 4;

    /// <summary>Send buffer size.</summary>
    internal const int SO_SNDBUF = 7;

    /// <summary>Let a datagram socket send to broadcast addresses.</summary>
    internal const int SO_BROADCAST = 6;

    /// <summary>Receive buffer size.</summary>
    internal const int SO_RCVBUF = 8;

    /// <summary>Keep-alive probes.</summary>
    internal const int SO_KEEPALIVE = 9;

    /// <summary>Linger on close.</summary>
    internal const int SO_LINGER = 13;

    /// <summary>Let several sockets bind the same address; the kernel balances connections between them.</summary>
    internal const int SO_REUSEPORT = 15;

    /// <summary>IPv6 option namespace.</summary>
    internal const int IPPROTO_IPV6 = 41;

    /// <summary>Restrict an AF_INET6 socket to IPv6 only (no IPv4-mapped peers).</summary>
    internal const int IPV6_V6ONLY = 26;

    /// <summary>TCP option namespace.</summary>
    internal const int IPPROTO_TCP = 6;

    /// <summary>UDP protocol number.</summary>
    internal const int IPPROTO_UDP = 17;

    /// <summary>Disable Nagle's algorithm.</summary>
    internal const int TCP_NODELAY = 1;

    /// <summary>Peek at received data without consuming it.</summary>
    internal const int MSG_PEEK = 0x2;

    /// <summary>Datagram was larger than the buffer (recv flags).</summary>
    internal const int MSG_TRUNC = 0x20;

    /// <summary>Non-blocking for this call only.</summary>
    internal const int MSG_DONTWAIT = 0x40;

    /// <summary>Report EPIPE instead of raising SIGPIPE when the peer is gone.</summary>
    internal const int MSG_NOSIGNAL = 0x4000;

    /// <summary>Shut down the receive direction.</summary>
    internal const int SHUT_RD = 0;

    /// <summary>Shut down the send direction (sends FIN).</summary>
    internal const int SHUT_WR = 1;

    /// <summary>Shut down both directions.</summary>
    internal const int SHUT_RDWR = 2;

    /// <summary>The resource limit on open descriptors.</summary>
    internal const int RLIMIT_NOFILE = 7;

    /// <summary><c>RLIM_INFINITY</c>: no limit.</summary>
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    /// <summary><c>sizeof(struct sockaddr_storage)</c>: large enough for every address family.</summary>
    internal const int SockaddrStorageSize = 128;

    /// <summary><c>socket(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    /// <summary><c>socketpair(2)</c>; <paramref name="sv"/> points at two ints.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary><c>bind(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int bind(int sockfd, byte* addr, int addrlen);

    /// <summary><c>listen(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int listen(int sockfd, int backlog);

    /// <summary><c>accept4(2)</c>; <paramref name="addr"/> and <paramref name="addrlen"/> may be null.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int accept4(int sockfd, byte* addr, int* addrlen, int flags);

    /// <summary><c>connect(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int connect(int sockfd, byte* addr, int addrlen);

    /// <summary><c>recv(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint recv(int sockfd, byte* buf, nuint len, int flags);

    /// <summary><c>send(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint send(int sockfd, byte* buf, nuint len, int flags);

    /// <summary><c>recvfrom(2)</c>; <paramref name="src_addr"/> and <paramref name="addrlen"/> may be null.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint recvfrom(int sockfd, byte* buf, nuint len, int flags, byte* src_addr, int* addrlen);

    /// <summary><c>sendto(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint sendto(int sockfd, byte* buf, nuint len, int flags, byte* dest_addr, int addrlen);

    /// <summary><c>shutdown(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int shutdown(int sockfd, int how);

    /// <summary><c>setsockopt(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int setsockopt(int sockfd, int level, int optname, void* optval, int optlen);

    /// <summary><c>getsockopt(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getsockopt(int sockfd, int level, int optname, void* optval, int* optlen);

    /// <summary><c>getsockname(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getsockname(int sockfd, byte* addr, int* addrlen);

    /// <summary><c>getpeername(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getpeername(int sockfd, byte* addr, int* addrlen);

    /// <summary><c>close(2)</c>. Never retry on EINTR: Linux has already released the descriptor.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int close(int fd);

    /// <summary><c>getrlimit(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getrlimit(int resource, RLimit* rlim);

    /// <summary><c>setrlimit(2)</c>.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int setrlimit(int resource, RLimit* rlim);

    /// <summary><c>struct rlimit</c>: <c>rlim_t</c> is 64-bit on every 64-bit Linux ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        /// <summary>Soft limit (<c>rlim_cur</c>).</summary>
        public ulong Current;

        /// <summary>Hard limit (<c>rlim_max</c>).</summary>
        public ulong Maximum;
    }
}
