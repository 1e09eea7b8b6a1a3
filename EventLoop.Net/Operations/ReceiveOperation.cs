using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>
/// A stream receive waiting for data; completes with the byte count (0 = end of stream). Pooled
/// per connection. On the io_uring back end a receive into a buffer waits as an IORING_OP_RECV
/// request on the ring (the kernel receives when data comes, no readiness round trip); a zero-byte
/// receive always waits for readiness.
/// </summary>
internal sealed class ReceiveOperation : SocketOperation<int>, ICompletionHandler
{
    private const int ENOBUFS = 105;

    private readonly StreamConnection _owner;
    private Memory<byte> _buffer;
    private CompletionRequest? _request;
    private RingReceiver? _receiver;

    public ReceiveOperation(StreamConnection owner, LoopSocket socket)
        : base(socket, SocketDirection.Read)
    {
        _owner = owner;
    }

    /// <summary>Waits for data into <paramref name="buffer"/>; the fast path already returned WouldBlock.</summary>
    public ValueTask<int> Start(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _buffer = buffer;
        return new ValueTask<int>(this, Suspend(cancellationToken));
    }

    /// <summary>Receives into <paramref name="buffer"/> (not empty) through the ring's <paramref name="io"/>.</summary>
    public ValueTask<int> StartOnRing(Memory<byte> buffer, CompletionIo io, CancellationToken cancellationToken) =>
        StartRequest(buffer, io, cancellationToken);

    /// <summary>
    /// A zero-byte receive through the ring: waits with a pooled-buffer receive, so the kernel
    /// takes a buffer only when data comes; the data then waits in it for the next receive.
    /// </summary>
    public ValueTask<int> StartPooled(CompletionIo io, CancellationToken cancellationToken) =>
        StartRequest(default, io, cancellationToken);

    // Begins the wait and submits the operation's own request: into the buffer, or pooled when it is empty.
    private ValueTask<int> StartRequest(Memory<byte> buffer, CompletionIo io, CancellationToken cancellationToken)
    {
        _buffer = buffer;
        short version = SuspendOnRing(cancellationToken);
        if (IsPending)
        {
            SubmitRequest(io);
        }

        return new ValueTask<int>(this, version);
    }

    private void SubmitRequest(CompletionIo io)
    {
        try
        {
            CompletionRequest request = _request ??= io.CreateRequest(this);
            if (_buffer.IsEmpty)
            {
                request.ReceivePooled(Socket.Handle);
            }
            else
            {
                request.Receive(Socket.Handle, _buffer);
            }
        }
        catch (Exception error)
        {
            OnRing = false;
            TrySetException(error);
        }
    }

    /// <summary>The buffer of the receive in progress (empty for a zero-byte receive).</summary>
    public Memory<byte> Buffer => _buffer;

    /// <summary>Waits on the connection's multishot ring receive (see <see cref="RingReceiver"/>).</summary>
    public ValueTask<int> StartOnReceiver(RingReceiver receiver, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _buffer = buffer;
        short version = SuspendOnRing(cancellationToken);
        if (IsPending)
        {
            _receiver = receiver;
            try
            {
                receiver.Wait(this);
            }
            catch (Exception error)
            {
                TrySetException(error);
            }
        }

        return new ValueTask<int>(this, version);
    }

    /// <summary>The receiver served this wait: <paramref name="received"/> bytes, or <paramref name="error"/>.</summary>
    public void CompleteFromRing(int received, SocketError error)
    {
        if (error == SocketError.Success)
        {
            TrySetResult(received);
        }
        else
        {
            TrySetException(CreateException(error));
        }
    }

    /// <summary>
    /// The receive pool ran dry before data came: a zero-byte receive looks and waits for
    /// readiness, a receive into a buffer becomes a single-shot ring receive into it.
    /// </summary>
    public void FallBackFromPool()
    {
        _receiver = null;
        if (!_buffer.IsEmpty && Socket.Completions is { } io)
        {
            SubmitRequest(io);
            return;
        }

        OnPooledCompleted(-ENOBUFS);
    }

    /// <summary>The bytes a pooled receive left for the next receive.</summary>
    public ReadOnlySpan<byte> PooledData => _request is null ? default : _request.PooledData;

    /// <summary>Gives the pooled buffer back once its bytes were taken.</summary>
    public void ReleasePooled() => _request?.ReleasePooled();

    void ICompletionHandler.OnCompleted(CompletionRequest request, int result)
    {
        if (!IsPending)
        {
            return;
        }

        if (_buffer.IsEmpty)
        {
            OnPooledCompleted(result);
        }
        else if (result >= 0)
        {
            Socket.OnReceived(result, _buffer.Length);
            if (result > 0)
            {
                Socket.OnReceivedOnRing();
            }

            TrySetResult(result);
        }
        else if (result == -Interop.Libc.EAGAIN)
        {
            FallBackToReadiness();
        }
        else
        {
            TrySetException(CreateException(SocketErrorPal.FromErrno(-result)));
        }
    }

    private void OnPooledCompleted(int result)
    {
        if (result > 0)
        {
            _owner.HoldPooled(this);
            Socket.OnReceivedOnRing();
            TrySetResult(0);
        }
        else if (result == 0)
        {
            TrySetResult(0); // end of stream: the next receive returns 0 too
        }
        else if (result == -ENOBUFS)
        {
            // The pool ran dry and nothing was received: look, then wait for an edge if empty.
            SocketError error = SocketPal.Peek(Socket.Fd);
            if (error == SocketError.Success)
            {
                TrySetResult(0);
            }
            else if (error == SocketError.WouldBlock)
            {
                FallBackToReadiness();
            }
            else
            {
                TrySetException(CreateException(error));
            }
        }
        else if (result == -Interop.Libc.EAGAIN)
        {
            FallBackToReadiness();
        }
        else
        {
            TrySetException(CreateException(SocketErrorPal.FromErrno(-result)));
        }
    }

    protected override SocketError Execute(out int result)
    {
        if (_buffer.IsEmpty)
        {
            // A zero-byte receive waits for readability, and the poller just reported it: no
            // need to peek (a spurious edge only means the next real receive waits again).
            result = 0;
            return SocketError.Success;
        }

        return StreamConnection.ReceiveCore(Socket, _buffer.Span, out result);
    }

    protected override void OnFinished()
    {
        if (_receiver is { } receiver)
        {
            _receiver = null;
            receiver.Forget(this);
        }

        // A kill, a deadline, the token or a close ended the wait first: end the request before
        // the caller gets its buffer back. Data the kernel had already received is kept for the
        // next receive, so cancellation loses nothing, as on epoll.
        if (_request is { IsInFlight: true } request && request.TryCancel(out int received) && received > 0)
        {
            if (_buffer.IsEmpty)
            {
                _owner.HoldPooled(this);
            }
            else
            {
                _owner.KeepReceived(_buffer.Span[..received]);
            }
        }

        OnRing = false;
    }

    protected override Exception CreateException(SocketError error) => NetThrowHelper.CreateSocketException(error, "receive");

    protected override void Recycle()
    {
        _buffer = default;
        _owner.ReturnReceive(this);
    }
}
