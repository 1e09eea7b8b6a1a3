namespace EventLoop.Polling;

// Design note: one descriptor for a host.
//
// A host (GLib, Qt, another event loop) integrates a foreign loop by one descriptor: it waits
// on epoll's fd and calls RunOnce(TimeSpan.Zero) when it is readable. epoll's fd is readable
// when a registered descriptor is ready, including the waker that cross-thread posts signal,
// but a due timer or work queued for the next iteration is no descriptor. This timerfd, in the
// epoll set, stands for both: armed to the earliest timer deadline, or to expire at once while
// the run queue holds work, and disarmed otherwise.
//
// Cost. It exists only once BackendDescriptor has been read; a loop driven by Run or RunOnce
// alone never creates it. Once it exists the loop sets it at the end of each iteration only
// when the target changed (the armed target is remembered, so an unchanged one costs nothing),
// and polls in every iteration so that its report, and the waker's, are consumed.
//
// No spin. The timer is level-triggered: readable from expiry until it is set again. An expiry
// is always answered by setting it again (to the next deadline, or disarmed), which resets it,
// except when the target is "at once" and work is still queued: then readable is the point.
// An expiry before the loop's clock says the timer is due (a clock whose rate differs) re-arms
// to the time that remains, so the host wakes again rather than spinning.
//
// Clock. The timer is armed relative to a fresh reading of the loop's clock (deadline minus
// now, rounded up by one tick), not to an absolute CLOCK_MONOTONIC time: the loop's clock is
// a TimeProvider (the system's reads CLOCK_MONOTONIC; a custom one may read anything), and a
// relative delay measured on it expires no earlier than the deadline on any clock that runs at
// real speed. A virtual clock does not: its timers arm the timerfd only once due (a zero delay),
// to fire at once; the clock itself moves when the host gives RunOnce a timeout.

/// <summary>
/// The timerfd that makes epoll's descriptor readable when a loop timer is due or work is
/// queued, for hosts that wait on <c>Loop.BackendDescriptor</c> alone. Loop thread.
/// </summary>
internal sealed class HostDescriptor : IDisposable
{
    /// <summary>Target: nothing to wake the host for.</summary>
    public const long Disarmed = long.MinValue;

    /// <summary>Target: work is queued; readable at once.</summary>
    public const long AtOnce = long.MinValue + 1;

    private readonly TimerFd _timer;
    private long _armed = Disarmed;
    private bool _expired;

    /// <summary>Creates the timerfd (disarmed) and adds it to <paramref name="poller"/> under <paramref name="token"/>.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">timerfd_create or epoll_ctl failed.</exception>
    public HostDescriptor(IPoller poller, int token)
    {
        _timer = new TimerFd();
        try
        {
            poller.Add(_timer.Fd, PollEvents.Read, token);
        }
        catch
        {
            _timer.Dispose();
            throw;
        }
    }

    /// <summary>The timerfd; -1 once disposed.</summary>
    public int Fd => _timer.Fd;

    /// <summary>How many times the timer was set (one timerfd_settime each), for tests.</summary>
    public long SetCount { get; private set; }

    /// <summary>The poll reported the timer readable.</summary>
    public void OnExpired() => _expired = true;

    /// <summary>
    /// True when the timer must be set for <paramref name="target"/> (<see cref="Disarmed"/>,
    /// <see cref="AtOnce"/> or a loop-clock deadline in ticks): the target changed, or the timer
    /// expired and readability is not wanted any more. Consumes the expiry report.
    /// </summary>
    public bool NeedsSet(long target)
    {
        bool expired = _expired;
        _expired = false;
        return target != _armed || (expired && target != AtOnce);
    }

    /// <summary>Sets the timer for <paramref name="target"/>, <paramref name="remainingTicks"/> from now when it is a deadline.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">timerfd_settime failed.</exception>
    public void Set(long target, long remainingTicks)
    {
        _armed = target;
        SetCount++;
        if (target == Disarmed)
        {
            _timer.Disarm();
        }
        else if (target == AtOnce || remainingTicks <= 0)
        {
            _timer.Arm(1);
        }
        else
        {
            // One tick more: the loop's clock converts timestamps to ticks by a floating-point
            // product that can round down; the extra 100 ns keeps the expiry after the deadline.
            long ticks = Math.Min(remainingTicks, (long.MaxValue / TimeSpan.NanosecondsPerTick) - 1) + 1;
            _timer.Arm(ticks * TimeSpan.NanosecondsPerTick);
        }
    }

    /// <summary>Closes the timerfd. Idempotent.</summary>
    public void Dispose() => _timer.Dispose();
}
