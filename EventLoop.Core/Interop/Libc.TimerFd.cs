using System.Runtime.InteropServices;

namespace EventLoop.Interop;

// timerfd (Linux): a timer that is a descriptor, readable once it expires. Setting it again
// (armed or disarmed) resets its expiry count, which clears readability without a read.
internal static unsafe partial class Libc
{
    internal const int CLOCK_MONOTONIC = 1;

    // The O_* values, like eventfd's flags.
    internal const int TFD_NONBLOCK = 0x800;
    internal const int TFD_CLOEXEC = 0x80000;

    /// <remarks>Linux only.</remarks>
    [LibraryImport(LibraryName, EntryPoint = "timerfd_create", SetLastError = true)]
    internal static partial int TimerFdCreate(int clockId, int flags);

    /// <remarks>Linux only. <paramref name="oldValue"/> may be null.</remarks>
    [LibraryImport(LibraryName, EntryPoint = "timerfd_settime", SetLastError = true)]
    internal static partial int TimerFdSetTime(int fd, int flags, TimerSpec* newValue, TimerSpec* oldValue);

    /// <summary>
    /// struct itimerspec: two struct timespec (interval, then first expiry), each a time_t and a
    /// long. Both are pointer-sized on Linux for the libc symbol this binds (32-bit time_t on
    /// 32-bit ABIs), so nint fits every architecture.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimerSpec
    {
        public nint IntervalSeconds;
        public nint IntervalNanoseconds;
        public nint ValueSeconds;
        public nint ValueNanoseconds;
    }
}
