using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventLoop.Internal;
using EventLoop.Io;
using EventLoop.Polling;

namespace EventLoop;

public sealed partial class Loop
{
    // Token of the wake-up descriptor; registration tokens are slot indexes (>= 0).
    private const int WakerToken = -1;

    private IPollTarget?[] _handlers = new IPollTarget?[64];
    private readonly Stack<int> _freeTokens = new();
    private int _nextToken;
    private int _registrationCount;
    private int _lastIoEvents;

    /// <summary>
    /// Calls <paramref name="callback"/> on the loop thread whenever <paramref name="socket"/> is
    /// ready for <paramref name="events"/> (level-triggered, like Python's <c>selectors</c>).
    /// Loop thread.
    /// </summary>
    /// <param name="socket">The socket; it should be non-blocking.</param>
    /// <param name="events">The directions of interest.</param>
    /// <param name="callback">Receives the very registration returned here and the ready directions.</param>
    /// <returns>The registration; dispose it to unregister.</returns>
    /// <exception cref="InvalidOperationException">The descriptor is already registered with this loop.</exception>
    public IoRegistration Register(Socket socket, IoEvents events, Action<IoRegistration, IoEvents> callback)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return Register(socket.SafeHandle, events, callback);
    }

    /// <summary>Like <see cref="Register(Socket, IoEvents, Action{IoRegistration, IoEvents})"/>, for any descriptor (pipe, eventfd, tty...). Loop thread.</summary>
    /// <param name="handle">The descriptor's handle; it must stay open while registered.</param>
    /// <param name="events">The directions of interest.</param>
    /// <param name="callback">Receives the very registration returned here and the ready directions.</param>
    /// <returns>The registration; dispose it to unregister.</returns>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public IoRegistration Register(SafeHandle handle, IoEvents events, Action<IoRegistration, IoEvents> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        VerifyDescriptorArguments(handle, events, nameof(Register));
        return new IoRegistration(this, handle, events, callback);
    }

    /// <summary>
    /// Watches <paramref name="handle"/>'s descriptor for a driver: readiness of the armed
    /// directions is reported to <paramref name="handler"/> inside the poll phase, edge-triggered
    /// and armed per direction (see <see cref="ReadinessWatch"/> for the rule a driver follows).
    /// The building block of EventLoop.Net's sockets, open to any driver. Loop thread.
    /// </summary>
    /// <param name="handle">The descriptor's handle, non-blocking; it must stay open while watched.</param>
    /// <param name="events">The directions armed at once (Read, Write, both, or None).</param>
    /// <param name="handler">Told about readiness and about the loop's disposal.</param>
    /// <returns>The watch; dispose it before closing the descriptor.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has other flags.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed, or the loop was disposed.</exception>
    /// <exception cref="InvalidOperationException">Called off the loop thread, or the descriptor is already registered with this loop.</exception>
    public ReadinessWatch Watch(SafeHandle handle, IoEvents events, IReadinessHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        VerifyDescriptorArguments(handle, events, nameof(Watch));
        return new ReadinessWatch(this, handle, events, handler);
    }

    /// <summary>
    /// The back end's waitable descriptor (epoll's), for a host loop that watches it and calls
    /// <c>RunOnce(TimeSpan.Zero)</c> when it becomes readable; -1 for the poll(2) and io_uring back ends,
    /// whose hosts must call <see cref="RunOnce"/> with <see cref="GetPollTimeout"/>.
    /// </summary>
    public int BackendDescriptor => _poller.Handle;

    /// <summary>True when edge-triggered registrations need no re-arming (epoll).</summary>
    internal bool NativeEdgeTriggered => _poller.NativeEdgeTriggered;

    /// <summary>Registers <paramref name="fd"/> with the poller; returns its token. Loop thread.</summary>
    internal int AddHandler(int fd, PollEvents events, IPollTarget handler)
    {
        VerifyAccess(nameof(Register));
        int token = _freeTokens.TryPop(out int free) ? free : _nextToken++;
        if (token >= _handlers.Length)
        {
            Array.Resize(ref _handlers, _handlers.Length * 2);
        }

        try
        {
            _poller.Add(fd, events, token);
        }
        catch
        {
            _freeTokens.Push(token);
            throw;
        }

        _handlers[token] = handler;
        _registrationCount++;
        return token;
    }

    /// <summary>Changes interest (and re-arms emulated edge-triggered directions). Loop thread.</summary>
    internal void ModifyHandler(int token, int fd, PollEvents events) => _poller.Modify(fd, events, token);

    /// <summary>
    /// Unregisters; an fd that is already closed is not an error. When the owner knows the fd
    /// was closed, epoll already dropped it, and a DEL could hit a new file that reuses the number.
    /// Loop thread.
    /// </summary>
    internal void RemoveHandler(int token, int fd, bool fdClosed = false)
    {
        if ((uint)token >= (uint)_handlers.Length || _handlers[token] is null)
        {
            return;
        }

        _handlers[token] = null;
        _freeTokens.Push(token);
        _registrationCount--;
        if (!_pollerClosed && !(fdClosed && _poller.Kind == PollerKind.Epoll))
        {
            _poller.Remove(fd);
        }
    }

    private void VerifyDescriptorArguments(SafeHandle handle, IoEvents events, string member)
    {
        ArgumentNullException.ThrowIfNull(handle);
        VerifyAccess(member);
        if ((events & ~(IoEvents.Read | IoEvents.Write)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events, "Only Read and Write can be registered.");
        }

        if (handle.IsClosed || handle.IsInvalid)
        {
            ThrowHelper.ThrowObjectDisposed(handle.GetType().Name);
        }
    }

    private void DispatchIoEvents(int count)
    {
        int ioEvents = 0;
        for (int i = 0; i < count; i++)
        {
            ref readonly ReadyEvent ready = ref _readyEvents[i];
            if (ready.Token == WakerToken)
            {
                _waker.Drain();
                continue;
            }

            ioEvents++;
            // Re-check the slot: an earlier handler in this batch may have unregistered it.
            IPollTarget? handler = (uint)ready.Token < (uint)_handlers.Length ? _handlers[ready.Token] : null;
            handler?.OnReady(ready.Events);
        }

        _lastIoEvents = ioEvents;
    }

    private void ReleaseHandlers()
    {
        IPollTarget?[] handlers = (IPollTarget?[])_handlers.Clone();
        foreach (IPollTarget? handler in handlers)
        {
            if (handler is null)
            {
                continue;
            }

            try
            {
                handler.OnLoopDisposed();
            }
            catch (Exception ex)
            {
                ReportUnhandled(ex, null);
            }
        }
    }
}
