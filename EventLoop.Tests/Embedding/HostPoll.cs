using System.Runtime.InteropServices;
using EventLoop.Interop;
using EventLoop.Tests.Polling;

namespace EventLoop.Tests.Embedding;

/// <summary>poll(2) on a few descriptors: the whole waiting machinery of a test host loop.</summary>
internal static unsafe class HostPoll
{
    /// <summary>True when <paramref name="fd"/> is readable within <paramref name="timeoutMs"/> (0: right now).</summary>
    public static bool IsReadable(int fd, int timeoutMs = 0) => TestFds.IsReadable(fd, timeoutMs);

    /// <summary>Waits until one of <paramref name="fds"/> is readable and marks which; false on timeout.</summary>
    public static bool Wait(ReadOnlySpan<int> fds, Span<bool> readable, int timeoutMs)
    {
        Libc.PollFd* entries = stackalloc Libc.PollFd[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            entries[i] = new Libc.PollFd { Fd = fds[i], Events = Libc.POLLIN };
        }

        int result;
        while ((result = Libc.Poll(entries, (nuint)fds.Length, timeoutMs)) < 0)
        {
            Assert.Equal(Libc.EINTR, Marshal.GetLastPInvokeError());
        }

        for (int i = 0; i < fds.Length; i++)
        {
            readable[i] = entries[i].ReturnedEvents != 0;
        }

        return result > 0;
    }
}
