using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

/// <summary>
/// The system calls both wakers make: a write that treats EAGAIN as "a wake-up is already
/// pending", and a drain that reads until EAGAIN. Both retry EINTR.
/// </summary>
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

    /// <summary>Reads until the descriptor is empty (EAGAIN) or at end of file.</summary>
    public static void Drain(int fd, byte* buffer, nuint length, string what)
    {
        while (true)
        {
            nint n = EventLoop.Interop.Libc.Read(fd, buffer, length);
            if (n == 0)
            {
                return;
            }

            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN)
                {
                    return;
                }

                if (errno != EINTR)
                {
                    throw CreateException($"read({what} {fd})", errno);
                }
            }
        }
    }
}
