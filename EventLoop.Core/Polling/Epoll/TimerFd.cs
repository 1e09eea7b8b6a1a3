using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

/// <summary>
/// A one-shot Linux timerfd on CLOCK_MONOTONIC (non-blocking, close-on-exec): readable from the
/// moment it expires until it is set again. Loop thread.
/// </summary>
internal sealed unsafe class TimerFd : IDisposable
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    // 2^31 - 1 seconds (68 years): the largest value a 32-bit time_t holds; "never" in practice.
    private const long MaxSeconds = int.MaxValue;

    private int _fd;

    /// <exception cref="System.ComponentModel.Win32Exception">timerfd_create failed (e.g. EMFILE).</exception>
    public TimerFd()
    {
        _fd = TimerFdCreate(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (_fd < 0)
        {
            throw CreateException("timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)", Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>The descriptor; -1 once disposed.</summary>
    public int Fd => _fd;

    /// <summary>Expires once, <paramref name="nanoseconds"/> from now (at least 1 ns: zero would disarm).</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">timerfd_settime failed.</exception>
    public void Arm(long nanoseconds) => Set(Math.Max(nanoseconds, 1));

    /// <summary>Stops the timer and clears a pending expiry.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">timerfd_settime failed.</exception>
    public void Disarm() => Set(0);

    /// <summary>Closes the descriptor (which also leaves any epoll set). Idempotent.</summary>
    public void Dispose()
    {
        int fd = _fd;
        _fd = -1;
        if (fd >= 0)
        {
            _ = Close(fd);
        }
    }

    private void Set(long nanoseconds)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        long seconds = nanoseconds / NanosecondsPerSecond;
        var spec = seconds >= MaxSeconds
            ? new TimerSpec { ValueSeconds = (nint)MaxSeconds }
            : new TimerSpec { ValueSeconds = (nint)seconds, ValueNanoseconds = (nint)(nanoseconds % NanosecondsPerSecond) };
        if (TimerFdSetTime(_fd, 0, &spec, null) != 0)
        {
            throw CreateException($"timerfd_settime(fd {_fd})", Marshal.GetLastPInvokeError());
        }
    }
}
