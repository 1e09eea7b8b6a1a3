using System.ComponentModel;
using System.Runtime.InteropServices;

namespace EventLoop.Interop;

// errno values and flags. Where Linux and the BSDs (macOS, FreeBSD) agree the value is a
// const; where they differ it is a static readonly chosen once for the running OS.
internal static partial class Libc
{
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EBADF = 9;
    internal const int ENOMEM = 12;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
    internal const int EPIPE = 32;

    private static readonly bool s_isLinux = OperatingSystem.IsLinux();

    /// <summary>Also EWOULDBLOCK: 11 on Linux, 35 on the BSDs.</summary>
    internal static readonly int EAGAIN = s_isLinux ? 11 : 35;
    internal static readonly int EINPROGRESS = s_isLinux ? 115 : 36;
    internal static readonly int EADDRINUSE = s_isLinux ? 98 : 48;
    internal static readonly int ECONNRESET = s_isLinux ? 104 : 54;
    internal static readonly int ENOTCONN = s_isLinux ? 107 : 57;
    internal static readonly int ECONNREFUSED = s_isLinux ? 111 : 61;

    internal static readonly int O_NONBLOCK = s_isLinux ? 0x800 : 0x4;
    internal static readonly int O_CLOEXEC =
        s_isLinux ? 0x80000 : OperatingSystem.IsMacOS() ? 0x1000000 : 0x100000;

    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const int FD_CLOEXEC = 1;

    // Linux only: eventfd and epoll flags share the O_* values.
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EPOLL_CLOEXEC = 0x80000;

    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;

    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLPRI = 0x002;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;
    internal const uint EPOLLET = 1u << 31;

    // poll(2) bits are the same on Linux, macOS and FreeBSD.
    internal const short POLLIN = 0x001;
    internal const short POLLPRI = 0x002;
    internal const short POLLOUT = 0x004;
    internal const short POLLERR = 0x008;
    internal const short POLLHUP = 0x010;
    internal const short POLLNVAL = 0x020;

    /// <summary>
    /// An exception for a failed call that names it, e.g. "epoll_ctl(EPOLL_CTL_ADD, fd 7) failed:
    /// Bad file descriptor (errno 9)". <see cref="Win32Exception.NativeErrorCode"/> is the errno.
    /// </summary>
    internal static Win32Exception CreateException(string call, int errno) =>
        new(errno, $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}
