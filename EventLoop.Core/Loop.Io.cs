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

    // Token of the host descriptor's timerfd (epoll, once BackendDescriptor was read).
    private const int HostTimerToken = -2;

    private IPollTarget?[] _handlers = new IPollTarget?[64];
    private readonly Stack<int> _freeTokens = new();

    // Tokens released during the poll phase, reused only after it: the batch a poll returned
    // may still hold an event for a registration a handler (readiness or completion) released,
    // and a registration a handler makes must not receive it under a recycled token.
    private readonly Stack<int> _tokensFreedInPoll = new();
    private bool _inPollPhase;
    private int _nextToken;
    private int _registrationCount;
    private int _lastIoEvents;
    private HostDescriptor? _host;

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
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="events"/> has flags other than Read and Write.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed, or the loop was disposed.</exception>
    /// <exception cref="InvalidOperationException">Called off the loop thread, or the descriptor is already registered with this loop (even with no interest).</exception>
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
    /// A single descriptor a host loop may wait on, calling <c>RunOnce(TimeSpan.Zero)</c> each time
    /// it is readable; -1 when the back end has none. On the epoll back end it is the epoll
    /// descriptor, readable when a registered descriptor is ready, when another thread posts or
    /// stops, when a timer is due (a timerfd in the epoll set follows the earliest deadline) and
    /// while callbacks queued by the last iteration wait to run. On the poll(2) and io_uring back
    /// ends it is -1 (poll(2) has no kernel object to wait on; io_uring submits its requests
    /// inside <see cref="RunOnce"/>): a host sleeps at most <see cref="GetPollTimeout"/> and then
    /// calls <see cref="RunOnce"/>.
    /// </summary>
    /// <remarks>
    /// The first read (on epoll) puts the loop in host mode: it creates the timerfd, and from then
    /// on every iteration polls and keeps the timerfd set, which costs a system call only when the
    /// earliest deadline changes. A loop whose descriptor is never read pays nothing. Work the host
    /// thread itself queues between two <c>RunOnce</c> calls (<see cref="Post(Action)"/>,
    /// <c>Spawn</c>, <see cref="CallLater"/>) makes it readable at once too. On a virtual clock
    /// (<see cref="LoopOptions.VirtualTime"/>) only timers due at the current virtual time make
    /// the descriptor readable: virtual time moves only when <see cref="RunOnce"/> is given a
    /// non-zero timeout, so the host decides when it jumps. Loop thread, or while no thread runs the loop.
    /// </remarks>
    /// <exception cref="System.ComponentModel.Win32Exception">The first read on epoll could not create the timerfd (e.g. EMFILE).</exception>
    public int BackendDescriptor
    {
        get
        {
            int fd = _poller.Handle;
            if (fd >= 0 && _poller.Kind == PollerKind.Epoll && !_disposed)
            {
                EnterHostMode();
            }

            return fd;
        }
    }

    /// <summary>The host descriptor's timer once <see cref="BackendDescriptor"/> was read on epoll, else null.</summary>
    internal HostDescriptor? HostDescriptor => _host;

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
            try
            {
                _poller.Add(fd, events, token);
            }
            catch (InvalidOperationException)
            {
                // poll(2) keeps a descriptor that was closed while registered until its next
                // report; a new descriptor with the same number must not be refused for it.
                if (!ReleaseClosedRegistration(fd))
                {
                    throw;
                }

                _poller.Add(fd, events, token);
            }
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

    /// <summary>
    /// Unregisters the <see cref="IoRegistration"/> or <see cref="ReadinessWatch"/> of
    /// <paramref name="fd"/> whose handle was closed without unregistering (epoll forgot it with
    /// the close; poll(2) and io_uring still hold the number). Returns false when there is none.
    /// Loop thread; only on the failure path of a registration.
    /// </summary>
    private bool ReleaseClosedRegistration(int fd)
    {
        foreach (IPollTarget? handler in _handlers)
        {
            if (handler?.ReleaseIfClosed(fd) == true)
            {
                return true;
            }
        }

        return false;
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
        (_inPollPhase ? _tokensFreedInPoll : _freeTokens).Push(token);
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
            if (ready.Token < 0)
            {
                OnLoopDescriptorReady(ready.Token);
                continue;
            }

            ioEvents++;
            // Re-check the slot: an earlier handler in this batch may have unregistered it.
            IPollTarget? handler = (uint)ready.Token < (uint)_handlers.Length ? _handlers[ready.Token] : null;
            if (_observesOutsideCalls && handler is ReadinessWatch watch)
            {
                // A readiness handler runs here, outside the ready phase: the monitor must see it,
                // and the slow-callback report time it.
                long started = BeginOutsideCall(watch.Handler);
                try
                {
                    handler.OnReady(ready.Events);
                }
                finally
                {
                    EndOutsideCall(watch.Handler, started);
                }
            }
            else
            {
                handler?.OnReady(ready.Events);
            }
        }

        _lastIoEvents = ioEvents;
    }

    private void OnLoopDescriptorReady(int token)
    {
        if (token == WakerToken)
        {
            _waker.Drain();
        }
        else if (token == HostTimerToken)
        {
            _host?.OnExpired();
        }
    }

    private void EnterHostMode()
    {
        if (_host is null)
        {
            _host = new HostDescriptor(_poller, HostTimerToken);
        }

        // Another thread may read the descriptor while the loop runs; the loop sets the timer
        // at the end of its iteration.
        int running = _runningThreadId;
        if (running == 0 || running == Environment.CurrentManagedThreadId)
        {
            SyncHostDescriptor();
        }
    }

    /// <summary>
    /// Sets the host descriptor's timer for what the host must wake for: queued work (at once),
    /// the earliest deadline (on a virtual clock only one already reached: the clock moves when
    /// the host says so), or nothing. No system call when that did not change.
    /// </summary>
    private void SyncHostDescriptor()
    {
        HostDescriptor host = _host!;
        long target = _runQueue.Count > 0 ? HostDescriptor.AtOnce
            : _timers.TryPeekDeadline(out long deadline) && (_virtualClock is null || deadline <= ReadClock()) ? deadline
            : HostDescriptor.Disarmed;
        if (host.NeedsSet(target))
        {
            host.Set(target, target > HostDescriptor.AtOnce ? target - ReadClock() : 0);
        }
    }

    /// <summary>
    /// Host mode: a timer or work the host thread queued while no iteration runs (so no
    /// iteration end sets the host descriptor before the host waits) makes it readable now.
    /// </summary>
    internal void OnQueuedBetweenIterations()
    {
        if (_host is not null && _runningThreadId == 0)
        {
            SyncHostDescriptor();
        }
    }

    private void CloseHostDescriptor()
    {
        _host?.Dispose(); // closing the timerfd takes it out of the epoll set
        _host = null;
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
