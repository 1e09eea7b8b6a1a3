using System.Runtime.InteropServices;
using EventLoop.Interop;

namespace EventLoop.Tests.Polling;

/// <summary>Raw descriptors for back-end tests: non-blocking Unix socket pairs and pipes.</summary>
internal static unsafe partial class TestFds
{
    private const int AF_UNIX = 1;
    private const int SOCK_STREAM = 1;

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairNative(int domain, int type, int protocol, int* fds);

    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        Check(SocketPairNative(AF_UNIX, SOCK_STREAM, 0, fds), "socketpair");
        SetNonBlocking(fds[0]);
        SetNonBlocking(fds[1]);
        return (fds[0], fds[1]);
    }

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(Libc.Pipe(fds), "pipe");
        SetNonBlocking(fds[0]);
        SetNonBlocking(fds[1]);
        return (fds[0], fds[1]);
    }

    public static void WriteByte(int fd, byte value = 42)
    {
        Check((int)Libc.Write(fd, &value, 1), "write");
    }

    /// <summary>Reads everything available; returns the byte count (0 when nothing was pending).</summary>
    public static int Drain(int fd)
    {
        byte* buffer = stackalloc byte[512];
        int total = 0;
        while (true)
        {
            nint n = Libc.Read(fd, buffer, 512);
            if (n > 0)
            {
                total += (int)n;
                continue;
            }

            if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
            {
                continue;
            }

            return total;
        }
    }

    /// <summary>poll(2) on one descriptor, independent of the back ends under test.</summary>
    public static bool IsReadable(int fd, int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
        int n;
        while ((n = Libc.Poll(&pfd, 1, timeoutMs)) < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
        {
        }

        Check(n, "poll");
        return n == 1 && (pfd.ReturnedEvents & Libc.POLLIN) != 0;
    }

    public static void Close(int fd) => Libc.Close(fd);

    private static void SetNonBlocking(int fd)
    {
        int flags = Libc.FcntlInt(fd, Libc.F_GETFL, 0);
        Check(flags, "fcntl(F_GETFL)");
        Check(Libc.FcntlInt(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK), "fcntl(F_SETFL)");
    }

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw Libc.CreateException(call, Marshal.GetLastPInvokeError());
        }
    }
}
