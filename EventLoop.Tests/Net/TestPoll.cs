using System.Runtime.InteropServices;

namespace EventLoop.Tests.Net;

/// <summary>Blocking poll(2) so tests can wait for readiness without a loop and without sleeping.</summary>
internal static unsafe partial class TestPoll
{
    // 10 s: only reached when the test is already failing; a passing wait returns in microseconds.
    private const int DefaultTimeoutMs = 10_000;

    private const short POLLIN = 0x1;
    private const short POLLOUT = 0x4;
    private const int EINTR = 4;

    public static bool WaitReadable(int fd, int timeoutMs = DefaultTimeoutMs) => Wait(fd, POLLIN, timeoutMs);

    public static bool WaitWritable(int fd, int timeoutMs = DefaultTimeoutMs) => Wait(fd, POLLOUT, timeoutMs);

    private static bool Wait(int fd, short events, int timeoutMs)
    {
        PollFd entry = new() { Fd = fd, Events = events };
        int result;
        do
        {
            result = poll(&entry, 1, timeoutMs);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);

        // POLLERR/POLLHUP also count: the next call on the socket reports the condition.
        return result > 0 && entry.Revents != 0;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
