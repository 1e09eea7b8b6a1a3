using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

/// <summary>The write both wakers make: retried on EINTR; EAGAIN means a wake-up is already pending.</summary>
internal static unsafe class WakeSignal
{
    public static void Write(int fd, byte* data, nuint length, string what)
    {
        while (EventLoop.Interop.Libc.Write(fd, data, length) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                return; // the descriptor is readable already
            }

            if (errno != EINTR)
            {
                throw CreateException($"write({what} {fd})", errno);
            }
        }
    }
}
