using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;
using EventLoop.Net.Operations;

namespace EventLoop.Net;

/// <summary>
/// A listening stream socket (TCP over IPv4/IPv6, or Unix domain) on a loop. Create it with
/// <see cref="LoopNetExtensions.Listen(Loop, EndPoint, int)"/>. One accept may be in flight at a time.
/// </summary>
/// <remarks>
/// Running out of descriptors (EMFILE/ENFILE) does not spin the loop: the listener stops asking
/// the kernel and retries on a back-off timer (5 ms doubling to 500 ms, like Go's net/http), and the
/// pending connection stays queued until a descriptor frees up, then is served. libuv's alternative,
/// closing a reserved descriptor to accept-and-drop the connection, frees the loop too, but turns
/// every client that arrives while the process is at its limit into a reset, which clients retry
/// anyway; waiting serves them.
/// On the io_uring back end (<see cref="Loop.CompletionIo"/>) the first accept that has to wait
/// arms one multishot accept request that stays armed: connections the kernel accepts meanwhile
/// are queued (up to 16, then the rest stay in the kernel's listen queue) and later accepts
/// complete synchronously from that queue, in order. <c>EVENTLOOP_ACCEPT_MULTISHOT=0</c> keeps
/// accept on readiness.
/// Loop-thread only, except <see cref="Dispose"/> (any thread).
/// Return types follow one rule: a socket operation on a pooled source that often completes
/// synchronously and is awaited once (receive, send, accept, datagram receive and send) returns
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>, so a warm one allocates nothing;
/// await it once, or call <c>AsTask()</c>. A composite operation that allocates anyway and may be
/// awaited many times or from other threads (<c>ConnectAsync</c>: resolution, several attempts;
/// <c>StreamServer.StopAsync</c>) returns <see cref="Task"/>.
/// </remarks>
public sealed class StreamListener : IDisposable
{
    private static readonly TimeSpan s_initialBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromMilliseconds(500);

    // EVENTLOOP_ACCEPT_MULTISHOT=0 keeps accept on readiness on the io_uring back end too.
    private static readonly bool s_ringAccept = Environment.GetEnvironmentVariable("EVENTLOOP_ACCEPT_MULTISHOT") != "0";

    private readonly LoopSocket _socket;
    private readonly bool _isUnix;
    private readonly string? _unixPath;
    private readonly Action _onBackoffTimer;
    private readonly CompletionIo? _ring;
    private RingAcceptor? _acceptor;
    private TimerHandle? _backoffTimer;
    private AcceptOperation? _cachedAccept;
    private AcceptOperation? _lastAccept;
    private TimeSpan _backoff = s_initialBackoff;
    private bool _backingOff;
    private bool _disposed;

    internal StreamListener(Loop loop, EndPoint endPoint, ListenOptions options)
    {
        _isUnix = endPoint is UnixDomainSocketEndPoint;
        AddressFamily family = _isUnix ? AddressFamily.Unix : endPoint.AddressFamily;
        SocketError error = SocketPal.CreateSocket(family, SocketType.Stream, out int fd);
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, "listen on", endPoint);
        }

        try
        {
            if (_isUnix)
            {
                _unixPath = UnixSocketFile.Prepare((UnixDomainSocketEndPoint)endPoint, SocketType.Stream);
            }
            else
            {
                // Always: a restarted server must be able to rebind while old connections sit in TIME_WAIT.
                SocketPal.SetReuseAddress(fd, true);
                if (options.ReusePort)
                {
                    Check(SocketPal.SetReusePort(fd, true), "setsockopt(SO_REUSEPORT) for", endPoint);
                }
            }

            Check(SocketPal.Bind(fd, endPoint), "bind", endPoint);
            Check(SocketPal.Listen(fd, options.Backlog), "listen on", endPoint);
            SocketPal.GetLocalEndPoint(fd, out EndPoint? local);
            LocalEndPoint = local ?? endPoint;
        }
        catch
        {
            SocketPal.Close(fd);
            throw;
        }

        // On the ring a waiting accept is a multishot accept request: the listener needs no poll
        // request of its own unless the ring sends it back to readiness.
        _ring = s_ringAccept ? loop.CompletionIo : null;
        _socket = new LoopSocket(loop, fd, _ring is null ? IoEvents.Read : IoEvents.None);

        _onBackoffTimer = OnBackoffTimer;
        _cachedAccept = new AcceptOperation(this, _socket);
    }

    /// <summary>The bound address; for port 0, the port the kernel chose.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The loop the listener runs on.</summary>
    public Loop Loop => _socket.Loop;

    /// <summary>The multishot ring accept, once an accept used it; null off io_uring or with EVENTLOOP_ACCEPT_MULTISHOT=0.</summary>
    internal RingAcceptor? RingAcceptor => _acceptor;

    /// <summary>
    /// Accepts the next connection; completes synchronously when one is queued. The connection has
    /// <c>TCP_NODELAY</c> set (TCP). Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; the listener stays usable.</param>
    /// <returns>The accepted connection.</returns>
    /// <exception cref="ObjectDisposedException">The listener was disposed (also completes an accept in flight).</exception>
    /// <exception cref="InvalidOperationException">Another accept is in flight, or not called on the loop thread.</exception>
    /// <exception cref="SocketException">The kernel reported an unexpected failure.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the awaiting greenlet was killed.</exception>
    public ValueTask<StreamConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed || _socket.IsClosed, this);
        if (!_socket.Loop.CheckAccess())
        {
            throw new InvalidOperationException("AcceptAsync must be called on the loop thread.");
        }

        if (_socket.IsBusy(SocketDirection.Read))
        {
            throw new InvalidOperationException("Another accept is already in flight on this listener.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<StreamConnection>(cancellationToken);
        }

        RingAcceptor? ring = _ring is null ? null : _acceptor ??= new RingAcceptor(this, _socket, _isUnix, _ring);
        if (ring is not null && ring.TryTake(out StreamConnection? queued, out Exception? queuedFailure))
        {
            return queuedFailure is null
                ? new ValueTask<StreamConnection>(queued!)
                : ValueTask.FromException<StreamConnection>(queuedFailure);
        }

        if (ring is { IsActive: false })
        {
            ring = null; // the ring sent this listener back to readiness
        }

        // While the ring accept is armed it owns the listen queue: an accept(2) now could take a
        // connection ahead of one the kernel has already accepted for the ring.
        if (_socket.IsReady(SocketDirection.Read) && ring is not { IsArmed: true })
        {
            SocketError error = TryAccept(out StreamConnection? connection, out Exception? failure);
            if (error == SocketError.Success)
            {
                return new ValueTask<StreamConnection>(connection!);
            }

            if (error == SocketError.WouldBlock)
            {
                if (ring is null)
                {
                    _socket.OnWouldBlock(SocketDirection.Read);
                }
                else
                {
                    _socket.OnReceiveWouldBlockOnRing(); // clears the bit without arming a poll
                }
            }
            else if (error != SocketError.IOPending)
            {
                return ValueTask.FromException<StreamConnection>(failure ?? NetThrowHelper.CreateSocketException(error, "accept on", LocalEndPoint));
            }
        }

        AcceptOperation op = _cachedAccept ?? new AcceptOperation(this, _socket);
        _cachedAccept = null;
        _lastAccept = op;
        return ring is null ? op.Start(cancellationToken) : op.StartOnRing(ring, cancellationToken);
    }

    /// <summary>
    /// Stops listening: an accept in flight completes with <see cref="ObjectDisposedException"/>, the
    /// descriptor is closed, and a Unix socket file is removed. Connections already accepted stay
    /// open. Idempotent. Any thread: off the loop thread the close is posted to the loop.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            _socket.Loop.RunOrPost(static s => ((StreamListener)s!).DisposeCore(), this);
        }
        catch (ObjectDisposedException)
        {
            DeleteUnixPath(); // off the loop thread after the loop was disposed: it closed the descriptor
        }
    }

    /// <summary>
    /// One accept attempt. Success with the connection; WouldBlock; IOPending while backing off
    /// after running out of descriptors; another error (with <paramref name="failure"/> when
    /// wrapping the descriptor failed).
    /// </summary>
    internal SocketError TryAccept(out StreamConnection? connection, out Exception? failure)
    {
        connection = null;
        failure = null;
        if (_backingOff)
        {
            return SocketError.IOPending;
        }

        while (true)
        {
            SocketError error = SocketPal.Accept(_socket.Fd, out int fd);
            switch (error)
            {
                case SocketError.Success:
                    _backoff = s_initialBackoff;
                    try
                    {
                        connection = new StreamConnection(_socket.Loop, fd, _isUnix);
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                        return SocketError.SocketError;
                    }

                    return SocketError.Success;
                case SocketError.ConnectionAborted:
                    continue; // reset while queued: take the next one
                case SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable:
                    StartBackoff();
                    return SocketError.IOPending;
                default:
                    return error;
            }
        }
    }

    internal void ReturnAccept(AcceptOperation op) => _cachedAccept ??= op;

    /// <summary>True while the listener waits out a descriptor shortage (no accept is attempted).</summary>
    internal bool IsBackingOff => _backingOff;

    /// <summary>The ring accepted a connection: descriptors are available again.</summary>
    internal void OnAcceptedOnRing() => _backoff = s_initialBackoff;

    /// <summary>Out of descriptors: stop accepting until a back-off timer (5 ms doubling to 500 ms) fires.</summary>
    internal void StartBackoff()
    {
        _backingOff = true;
        // A new timer per back-off: it only runs while descriptors are exhausted, off the hot path.
        _backoffTimer = _socket.Loop.CallLater(_backoff, _onBackoffTimer);
        _backoff = _backoff * 2 > s_maxBackoff ? s_maxBackoff : _backoff * 2;
    }

    private void OnBackoffTimer()
    {
        _backingOff = false;
        if (!_disposed)
        {
            _lastAccept?.Retry();
            _acceptor?.Resume();
        }
    }

    private void DisposeCore()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _backoffTimer?.Cancel();
        _acceptor?.Close(); // the kernel lets go of the listener, and no accepted descriptor is left behind
        _socket.Close(nameof(StreamListener));
        DeleteUnixPath();
    }

    private void DeleteUnixPath() => UnixSocketFile.Delete(_unixPath);

    private static void Check(SocketError error, string operation, EndPoint endPoint)
    {
        if (error != SocketError.Success)
        {
            NetThrowHelper.ThrowSocketException(error, operation, endPoint);
        }
    }
}
