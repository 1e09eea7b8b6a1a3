using System.Runtime.InteropServices;
using EventLoop.Internal;
using EventLoop.Io;
using EventLoop.Polling;

namespace EventLoop;

/// <summary>
/// A callback registered for a descriptor's readiness, like an entry of Python's <c>selectors</c>.
/// Level-triggered: a callback that does not drain the descriptor is called again on the next
/// iteration. A registration disposed or updated by an earlier callback of the same batch gets
/// no stale event. Dispose the registration before closing the descriptor (as with
/// <c>selectors</c>: unregister, then close). Loop-thread only.
/// </summary>
public sealed class IoRegistration : IPollTarget, IDisposable
{
    private static readonly Action<object?> s_dispatch = static s => ((IoRegistration)s!).Dispatch();

    private readonly Loop _loop;
    private readonly SafeHandle _handle;
    private readonly Action<IoRegistration, IoEvents> _callback;
    private readonly int _fd;
    private IoEvents _events;
    private IoEvents _pending;
    private int _token;
    private bool _queued;
    private bool _disposed;

    internal IoRegistration(Loop loop, SafeHandle handle, IoEvents events, Action<IoRegistration, IoEvents> callback)
    {
        _loop = loop;
        _handle = handle;
        _callback = callback;
        // No DangerousAddRef: Socket.Dispose spins until every reference is released, so a
        // registration holding one would hang a user who closes the socket first.
        _fd = (int)handle.DangerousGetHandle();
        _events = events;
        // Registered even with no interest: the descriptor stays taken (a second registration is
        // refused) and Loop.Dispose reaches it. Every back end leaves an empty interest unreported.
        _token = loop.AddHandler(_fd, ToPoll(events), this);
    }

    /// <summary>The directions the callback is interested in.</summary>
    public IoEvents Events => _events;

    /// <summary>The registered descriptor's number.</summary>
    public int Descriptor => _fd;

    /// <summary>The handle that was registered.</summary>
    public SafeHandle Handle => _handle;

    /// <summary>True once <see cref="Dispose"/> was called (or the loop was disposed).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Changes the interest. <see cref="IoEvents.None"/> parks the registration: the descriptor stays
    /// registered (and counted in <see cref="Loop.Statistics"/>) but nothing is reported.
    /// </summary>
    /// <param name="events">The new interest.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has flags other than Read and Write.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed, or its handle was closed (which disposes it).</exception>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    public void Update(IoEvents events)
    {
        _loop.VerifyAccess(nameof(Update));
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(IoRegistration));
        }

        if ((events & ~(IoEvents.Read | IoEvents.Write)) != 0)
        {
            // Other bits would reach the poller as PollEvents.EdgeTriggered and the like.
            throw new ArgumentOutOfRangeException(nameof(events), events, "Only Read and Write can be registered.");
        }

        if (_handle.IsClosed)
        {
            // Closed without unregistering: the number may already be another descriptor's
            // (epoll would modify that one's entry), so let go of it like OnReady does.
            Release();
            ThrowHelper.ThrowObjectDisposed(_handle.GetType().Name);
        }

        if (events == _events)
        {
            return;
        }

        _loop.ModifyHandler(_token, _fd, ToPoll(events));
        _events = events;
    }

    /// <summary>Unregisters the descriptor; idempotent. The descriptor itself is not closed.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _loop.VerifyAccess(nameof(Dispose));
        Release();
    }

    void IPollTarget.OnReady(IoEvents events)
    {
        if (_disposed)
        {
            return;
        }

        if (_handle.IsClosed)
        {
            // Closed without unregistering: poll(2) would report POLLNVAL forever.
            Release();
            return;
        }

        _pending |= events;
        if (!_queued)
        {
            _queued = true;
            _loop.Enqueue(s_dispatch, this, null);
        }
    }

    void IPollTarget.OnLoopDisposed() => Release();

    /// <inheritdoc/>
    bool IPollTarget.ReleaseIfClosed(int fd)
    {
        if (_disposed || _fd != fd || !_handle.IsClosed)
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
            _loop.RemoveHandler(_token, _fd, _handle.IsClosed);
            _token = -1;
        }
    }

    private void Dispatch()
    {
        _queued = false;
        IoEvents ready = _pending & _events;
        _pending = IoEvents.None;
        if (_disposed || ready == IoEvents.None)
        {
            return;
        }

        _callback(this, ready);
    }

    private static PollEvents ToPoll(IoEvents events) => (PollEvents)(int)events;
}
