using System.Runtime.InteropServices;
using EventLoop.Internal;
using EventLoop.Io;
using EventLoop.Polling;

namespace EventLoop;

/// <summary>
/// A descriptor watched by the loop's poller on behalf of a driver (a socket, a pipe, a tty, a
/// <c>signalfd</c>), like mio's <c>Registry</c> entry or libuv's <c>uv_poll_t</c>: readiness is
/// reported to an <see cref="IReadinessHandler"/> inside the poll phase, with no queue hop, so the
/// handler can complete a <see cref="LoopWaitSource{TResult}"/> at once. Created by
/// <see cref="Loop.Watch"/>. Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// Trigger mode: <b>edge-triggered, armed per direction</b>. A direction is reported when it
/// becomes ready while it is armed; it is not reported again merely because it stays ready.
/// The driver's rule, which works on every back end: keep a "ready" flag per direction, set it
/// when the direction is reported; try the non-blocking system call while it is set; when the
/// call answers EAGAIN, clear the flag, call <see cref="Arm"/> for that direction and wait for
/// the next report. Two consequences the driver must accept: a report can be spurious (the
/// next call may still answer EAGAIN: arm again and keep waiting), and a direction can be
/// reported without a new <see cref="Arm"/> (epoll reports every edge).
/// </para>
/// <para>
/// Back ends: epoll registers the descriptor with <c>EPOLLET</c>; an armed direction stays
/// armed (<see cref="StaysArmed"/> is true) and <see cref="Arm"/> of an armed direction costs
/// nothing. The poll(2) back end has no edge mode and emulates it one-shot: a reported
/// direction is disarmed until <see cref="Arm"/> re-arms it, and arming a direction that is
/// ready now reports it on the next iteration, so no edge is lost between EAGAIN and
/// <see cref="Arm"/>. Errors and hang-ups are reported as <see cref="IoEvents.Read"/> |
/// <see cref="IoEvents.Write"/>, even for a direction that is not armed, so the driver's own
/// system call observes them.
/// </para>
/// <para>
/// Closing, as trio's <c>notify_closing</c>: fail the waits first, then <see cref="Dispose"/> the
/// watch, then close the descriptor, so no event for a reused descriptor number reaches a dead
/// driver. The watch does not own the handle; keep it open while watched. (A watch whose handle
/// was closed first is released when a new descriptor with the same number is watched or
/// registered, on every back end; until then io_uring's poll request keeps the file open.)
/// </para>
/// </remarks>
public sealed class ReadinessWatch : IPollTarget, IDisposable
{
    private readonly SafeHandle _handle;
    private readonly IReadinessHandler _handler;
    private readonly int _descriptor;
    private readonly bool _staysArmed;
    private IoEvents _armed;
    private int _token;
    private bool _disposed;

    /// <summary>The handler the watch reports to (the blocked-loop monitor names it).</summary>
    internal IReadinessHandler Handler => _handler;

    internal ReadinessWatch(Loop loop, SafeHandle handle, IoEvents events, IReadinessHandler handler)
    {
        Loop = loop;
        _handle = handle;
        _handler = handler;
        // No DangerousAddRef, as for IoRegistration: Socket.Dispose spins until every reference
        // is released, so a watch holding one would hang a driver that closes first.
        _descriptor = (int)handle.DangerousGetHandle();
        _staysArmed = loop.NativeEdgeTriggered;
        _armed = events;
        _token = loop.AddHandler(_descriptor, ToPoll(events), this);
    }

    /// <summary>The loop whose poller watches the descriptor.</summary>
    public Loop Loop { get; }

    /// <summary>The watched handle.</summary>
    public SafeHandle Handle => _handle;

    /// <summary>The watched descriptor's number.</summary>
    public int Descriptor => _descriptor;

    /// <summary>The directions armed now: reported when they become ready.</summary>
    public IoEvents Armed => _armed;

    /// <summary>
    /// True when an armed direction stays armed after it is reported (epoll: every new edge is
    /// reported without <see cref="Arm"/>); false when a report disarms it until <see cref="Arm"/>
    /// (the poll(2) back end). A driver that follows the arming rule need not look at it; it tells
    /// whether an event with a direction that was never armed can only be an error or a hang-up.
    /// </summary>
    public bool StaysArmed => _staysArmed;

    /// <summary>True once <see cref="Dispose"/> ran (or the loop was disposed).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Arms <paramref name="events"/> (in addition to what is armed): each is reported the next time
    /// it is ready, at once if it is ready now on the poll(2) back end. Costs one system call
    /// only when a direction is not armed yet. Loop thread.
    /// </summary>
    /// <param name="events">Read, Write, or both.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has other flags.</exception>
    /// <exception cref="ObjectDisposedException">The watch was disposed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Arm(IoEvents events)
    {
        if ((events & ~(IoEvents.Read | IoEvents.Write)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events, "Only Read and Write can be armed.");
        }

        // Checked even when nothing changes, so a driver's wrong-thread call fails every time on
        // every back end, not only when it would touch the poller (another thread must never
        // write the io_uring submission queue or poll(2)'s arrays while the loop polls). The rule
        // of Loop.Watch: any thread while nobody runs the loop.
        Loop.VerifyThread("ReadinessWatch.Arm");

        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(ReadinessWatch));
        }

        if ((_armed & events) == events)
        {
            return;
        }

        _armed |= events;
        Loop.ModifyHandler(_token, _descriptor, ToPoll(_armed));
    }

    /// <summary>Stops watching; idempotent. The descriptor is not closed. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (!Loop.CheckAccess())
        {
            ThrowHelper.ThrowWrongThread("ReadinessWatch.Dispose");
        }

        Release();
    }

    void IPollTarget.OnReady(IoEvents events)
    {
        if (_disposed)
        {
            return;
        }

        if (!_staysArmed)
        {
            // The poll back end disarmed what it reported.
            _armed &= ~events;
        }

        try
        {
            _handler.OnReady(this, events);
        }
        catch (Exception ex)
        {
            Loop.ReportUnhandled(ex, null);
        }
    }

    void IPollTarget.OnLoopDisposed()
    {
        try
        {
            _handler.OnLoopDisposed(this);
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc/>
    bool IPollTarget.ReleaseIfClosed(int fd)
    {
        if (_disposed || _descriptor != fd || !_handle.IsClosed)
        {
            return false;
        }

        Release();
        return true;
    }

    private void Release()
    {
        _disposed = true;
        if (_token >= 0)
        {
            Loop.RemoveHandler(_token, _descriptor, _handle.IsClosed);
            _token = -1;
        }
    }

    private static PollEvents ToPoll(IoEvents events) => (PollEvents)(int)events | PollEvents.EdgeTriggered;
}
