using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>
/// A listener's accept side on the io_uring ring: one multishot <c>IORING_OP_ACCEPT</c>
/// (<see cref="CompletionRequest.Accept"/>), armed by the first accept that has to wait, turns
/// every connection the kernel accepts into a <see cref="StreamConnection"/> for the waiting
/// accept, or queues it for the next one. At <see cref="MaxQueued"/> queued the request is
/// cancelled (connections the kernel accepted in the same batch cross the cancellation and are
/// queued too), the rest stay in the kernel's listen queue, and the next accept that
/// finds the queue empty arms the request again, so connections come out in the order they were
/// accepted and none is lost. Closing cancels the request and closes what is queued and what
/// crossed the cancellation. Loop-thread only.
/// </summary>
internal sealed class RingAcceptor : ICompletionHandler
{
    /// <summary>Connections accepted and not yet taken before the multishot accept is paused.</summary>
    public const int MaxQueued = 16;

    private readonly StreamListener _owner;
    private readonly LoopSocket _socket;
    private readonly bool _isUnix;
    private readonly CompletionRequest _request;
    private readonly Queue<StreamConnection> _queued = new(MaxQueued);
    private AcceptOperation? _waiter;
    private Exception? _failure;
    private bool _cancelling;
    private bool _closed;

    public RingAcceptor(StreamListener owner, LoopSocket socket, bool isUnix, CompletionIo io)
    {
        _owner = owner;
        _socket = socket;
        _isUnix = isUnix;
        _request = io.CreateRequest(this);
    }

    /// <summary>False once the kernel answered EAGAIN instead of waiting: the listener accepts by readiness from then on.</summary>
    public bool IsActive { get; private set; } = true;

    /// <summary>True while the multishot accept is armed.</summary>
    public bool IsArmed => _request.IsInFlight;

    /// <summary>How many accepted connections wait for an accept.</summary>
    public int QueuedCount => _queued.Count;

    /// <summary>
    /// The oldest queued connection, or the failure the ring reported while no accept waited
    /// (reported once); false when there is neither.
    /// </summary>
    public bool TryTake(out StreamConnection? connection, out Exception? failure)
    {
        failure = null;
        if (_queued.TryDequeue(out connection))
        {
            return true;
        }

        if (_failure is { } pending)
        {
            _failure = null;
            failure = pending;
            return true;
        }

        return false;
    }

    /// <summary>Parks <paramref name="op"/> (nothing is queued) until a connection comes; arms the accept if it is not.</summary>
    public void Wait(AcceptOperation op)
    {
        _waiter = op;
        if (!_request.IsInFlight && !_owner.IsBackingOff)
        {
            _request.Accept(_socket.Handle, multishot: true);
        }
    }

    /// <summary>The waiting accept ended otherwise (kill, deadline, token, close): connections keep being queued.</summary>
    public void Forget(AcceptOperation op)
    {
        if (ReferenceEquals(_waiter, op))
        {
            _waiter = null;
        }
    }

    /// <summary>The descriptor back-off ended: arm again for the accept that waits.</summary>
    public void Resume()
    {
        if (_waiter is { } waiter && !_closed && IsActive && !_request.IsInFlight)
        {
            try
            {
                _request.Accept(_socket.Handle, multishot: true);
            }
            catch (Exception error)
            {
                _waiter = null;
                waiter.FailFromRing(error);
            }
        }
    }

    /// <summary>
    /// Cancels the accept and closes every connection queued or crossing the cancellation; before
    /// the listener's descriptor is closed.
    /// </summary>
    public void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _waiter = null; // closing the socket fails it as on readiness
        if (_request.IsInFlight)
        {
            _cancelling = true;
            _ = _request.TryCancel(out int outcome);
            _cancelling = false;
            if (outcome >= 0)
            {
                SocketPal.Close(outcome);
            }
        }

        while (_queued.TryDequeue(out StreamConnection? connection))
        {
            connection.Dispose();
        }

        _failure = null;
    }

    void ICompletionHandler.OnCompleted(CompletionRequest request, int result)
    {
        bool keepArmed = result >= 0 ? OnAccepted(result) : OnFailed(result);
        if (keepArmed && !request.IsInFlight && !_cancelling && !_closed && IsActive &&
            !_owner.IsBackingOff && _queued.Count < MaxQueued)
        {
            // Ended by the kernel (a skipped failure, a full completion queue): keep it armed.
            try
            {
                request.Accept(_socket.Handle, multishot: true);
            }
            catch (Exception error)
            {
                Report(error);
            }
        }
    }

    // A connection: to the waiter or the queue. False when wrapping it failed (reported instead).
    private bool OnAccepted(int fd)
    {
        if (_closed)
        {
            SocketPal.Close(fd);
            return false;
        }

        StreamConnection connection;
        try
        {
            connection = new StreamConnection(_socket.Loop, fd, _isUnix); // closes fd if it throws
        }
        catch (Exception error)
        {
            Report(error);
            return false;
        }

        _owner.OnAcceptedOnRing();
        if (_waiter is { } waiter)
        {
            // A waiter means nothing was queued: this is the oldest connection.
            _waiter = null;
            waiter.CompleteFromRing(connection);
            return true;
        }

        _queued.Enqueue(connection);
        if (_queued.Count >= MaxQueued && _request.IsInFlight && !_cancelling)
        {
            // Enough queued: leave the rest in the kernel's listen queue until these are taken.
            _cancelling = true;
            _ = _request.TryCancel(out int outcome);
            _cancelling = false;
            _ = outcome >= 0 ? OnAccepted(outcome) : OnFailed(outcome);
        }

        return true;
    }

    // A failure of the multishot accept (which ends it): the same cases as accept(2) on readiness.
    // True when the accept is to be armed again at once.
    private bool OnFailed(int result)
    {
        if (result == -Interop.Libc.ECANCELED || _closed)
        {
            return true; // the kernel ended it, or we did (then nothing is armed again)
        }

        SocketError error = SocketErrorPal.FromErrno(-result);
        switch (error)
        {
            case SocketError.ConnectionAborted:
                return true; // reset while queued: take the next one
            case SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable:
                _owner.StartBackoff(); // the connection stays queued in the kernel; Resume arms again
                return false;
            case SocketError.WouldBlock:
                // The kernel honoured the listener's O_NONBLOCK instead of waiting: readiness it
                // is, with Read armed from now on (the listener registered no direction).
                IsActive = false;
                _socket.OnWouldBlock(SocketDirection.Read);
                if (_waiter is { } waiter)
                {
                    _waiter = null;
                    waiter.FallBackFromRing();
                }

                return false;
            default:
                Report(NetThrowHelper.CreateSocketException(error, "accept on", _owner.LocalEndPoint));
                return false;
        }
    }

    // A failure for the waiting accept, or for the next one (once; the one after arms again).
    private void Report(Exception error)
    {
        if (_waiter is { } waiter)
        {
            _waiter = null;
            waiter.FailFromRing(error);
        }
        else
        {
            _failure ??= error;
        }
    }
}
