using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>
/// A connection's receive side once it waits through the ring's receive pool: one multishot
/// pooled receive (<see cref="CompletionRequest.ReceivePooled"/>), armed once, delivers every
/// arrival into a pool buffer, and receives are served from the buffers it holds, oldest first.
/// From then on no receive system call is made on the connection (it could overtake data the
/// kernel already put in a buffer). At most <see cref="MaxHeld"/> buffers are held: past that the
/// request is cancelled, and the next receive that must wait arms it again, so a fast sender
/// meets TCP backpressure as on epoll. Loop-thread only.
/// </summary>
internal sealed class RingReceiver : ICompletionHandler
{
    /// <summary>Pool buffers (4 KiB each) one connection holds before its receive is paused.</summary>
    public const int MaxHeld = 8;

    private const int ENOBUFS = 105;

    private readonly LoopSocket _socket;
    private readonly CompletionRequest _request;
    private int _offset;
    private bool _ended;
    private SocketError _error;
    private ReceiveOperation? _waiter;

    public RingReceiver(LoopSocket socket, CompletionIo io)
    {
        _socket = socket;
        _request = io.CreateRequest(this);
    }

    /// <summary>
    /// Serves <paramref name="buffer"/> from what is held, or reports the end of stream or the
    /// failure the receive saw; false when there is nothing yet (the caller waits).
    /// </summary>
    public bool TryReceive(Span<byte> buffer, out int received, out SocketError error)
    {
        received = 0;
        error = SocketError.Success;
        if (_request.PooledCount > 0)
        {
            received = Copy(buffer);
            return true;
        }

        if (_error != SocketError.Success)
        {
            // Reported once, as the kernel does; afterwards the stream reads as ended.
            error = _error;
            _error = SocketError.Success;
            _ended = true;
            return true;
        }

        return _ended;
    }

    /// <summary>Parks <paramref name="op"/> until data, the end or a failure arrives; arms the receive if it is not.</summary>
    public void Wait(ReceiveOperation op)
    {
        _waiter = op;
        if (!_request.IsInFlight)
        {
            _request.ReceivePooled(_socket.Handle, multishot: true);
        }
    }

    /// <summary>The waiting receive ended otherwise (kill, deadline, token, close): data keeps arriving for the next one.</summary>
    public void Forget(ReceiveOperation op)
    {
        if (ReferenceEquals(_waiter, op))
        {
            _waiter = null;
        }
    }

    /// <summary>Cancels the receive and gives every held buffer back; before the descriptor is closed.</summary>
    public void Close()
    {
        _ = _request.TryCancel(out _);
        while (_request.PooledCount > 0)
        {
            _request.ReleasePooled();
        }

        _offset = 0;
    }

    void ICompletionHandler.OnCompleted(CompletionRequest request, int result)
    {
        if (result > 0)
        {
            _socket.OnReceivedOnRing();
            if (request.PooledCount >= MaxHeld && request.IsInFlight)
            {
                // Enough held: pause, so the socket's own buffer fills and the peer slows down.
                _ = request.TryCancel(out int outcome);
                Record(outcome);
            }
        }
        else
        {
            Record(result);
        }

        if (_waiter is not { } waiter)
        {
            return;
        }

        if (TryReceive(waiter.Buffer.Span, out int received, out SocketError error))
        {
            _waiter = null;
            waiter.CompleteFromRing(received, error);
        }
        else if (!request.IsInFlight)
        {
            // Ended without data for the waiter: the pool ran dry, or the kernel cancelled.
            _waiter = null;
            if (result == -ENOBUFS)
            {
                waiter.FallBackFromPool();
            }
            else
            {
                Wait(waiter);
            }
        }
    }

    // The final result of the multishot receive: end of stream, a failure, or a pause
    // (cancelled, or the pool ran dry), after which the next wait arms it again.
    private void Record(int result)
    {
        if (result == 0)
        {
            _ended = true;
        }
        else if (result < 0 && result != -ENOBUFS && result != -Interop.Libc.ECANCELED && result != -Interop.Libc.EAGAIN)
        {
            _error = SocketErrorPal.FromErrno(-result);
        }
    }

    private int Copy(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0; // a zero-byte receive only asks whether data is there
        }

        ReadOnlySpan<byte> data = _request.PooledData[_offset..];
        int count = Math.Min(buffer.Length, data.Length);
        data[..count].CopyTo(buffer);
        _offset += count;
        if (count == data.Length)
        {
            _offset = 0;
            _request.ReleasePooled();
        }

        return count;
    }
}
