using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>
/// A pooled socket operation that waits for one direction of a <see cref="LoopSocket"/>: the state
/// shared by receive, send, accept, connect and the datagram operations, on Core's public
/// <see cref="LoopWaitSource{TResult}"/>. An owner keeps one per direction and rents it by swapping
/// its cache field with null, so a warm operation allocates nothing; the awaiter's GetResult hands
/// it back. Completes with the result, a <see cref="SocketException"/>,
/// <see cref="OperationCanceledException"/> (token or greenlet kill; the socket stays usable),
/// <see cref="LoopTimeoutException"/> (a cancel scope's deadline) or
/// <see cref="ObjectDisposedException"/> (closed). Loop-thread only.
/// </summary>
/// <typeparam name="TResult">The result type.</typeparam>
internal abstract class SocketOperation<TResult> : LoopWaitSource<TResult>, ISocketWait
{
    private readonly SocketDirection _direction;

    protected SocketOperation(LoopSocket socket, SocketDirection direction)
        : base(socket.Loop)
    {
        Socket = socket;
        _direction = direction;
    }

    /// <summary>The socket this operation runs on.</summary>
    protected LoopSocket Socket { get; }

    /// <summary>
    /// True while the operation waits for a request on the loop's io_uring ring rather than for
    /// readiness: edges then change nothing (the kernel performs the call and reports it).
    /// </summary>
    protected bool OnRing { get; set; }

    /// <summary>
    /// The operation's system call: Success (with the result) or a failure completes it;
    /// WouldBlock keeps it waiting for the next edge; IOPending keeps it waiting for something
    /// else (a timer) that will call <see cref="TryComplete"/>.
    /// </summary>
    protected abstract SocketError Execute(out TResult result);

    /// <summary>
    /// Names the operation and the socket's addresses for a greenlet dump:
    /// <c>Receive on 127.0.0.1:6379 from 127.0.0.1:51234</c>. Only when a dump asks.
    /// </summary>
    /// <returns>The description.</returns>
    public override string Describe()
    {
        string verb = GetType().Name;
        if (verb.EndsWith("Operation", StringComparison.Ordinal))
        {
            verb = verb[..^"Operation".Length];
        }

        if (SocketPal.GetLocalEndPoint(Socket.Fd, out System.Net.EndPoint? local) != SocketError.Success || local is null)
        {
            return $"{verb} on descriptor {Socket.Fd}";
        }

        return SocketPal.GetRemoteEndPoint(Socket.Fd, out System.Net.EndPoint? remote) == SocketError.Success && remote is not null
            ? $"{verb} on {local} from {remote}"
            : $"{verb} on {local}";
    }

    /// <summary>Builds the exception for a failed system call.</summary>
    protected abstract Exception CreateException(SocketError error);

    /// <summary>Called once the result was taken: return this object to the owner's cache and drop buffers.</summary>
    protected abstract void Recycle();

    /// <summary>
    /// Parks the operation after its first attempt returned WouldBlock: links it to the current
    /// greenlet and to <paramref name="cancellationToken"/> and waits for readiness. The caller
    /// wraps the returned version in a ValueTask.
    /// </summary>
    /// <returns>The token for the ValueTask; the operation may already be complete (killed greenlet, canceled token).</returns>
    protected short Suspend(CancellationToken cancellationToken)
    {
        if (Begin(cancellationToken))
        {
            Socket.BeginWait(this, _direction);
        }

        return Version;
    }

    /// <summary>
    /// Parks the operation as <see cref="Suspend"/> does, marked <see cref="OnRing"/> while it
    /// waits so that no edge acts for it; the caller then hands it to the ring side if it is
    /// still pending.
    /// </summary>
    /// <returns>The token for the ValueTask; the operation may already be complete (killed greenlet, canceled token).</returns>
    protected short SuspendOnRing(CancellationToken cancellationToken)
    {
        OnRing = true;
        short version = Suspend(cancellationToken);
        if (!IsPending)
        {
            OnRing = false;
        }

        return version;
    }

    /// <summary>
    /// A ring request failed with EAGAIN (the kernel honoured the socket's O_NONBLOCK instead of
    /// waiting): wait for the direction's next edge and make the system call then, as on epoll.
    /// </summary>
    protected void FallBackToReadiness()
    {
        OnRing = false;
        Socket.OnWouldBlock(_direction);
    }

    /// <inheritdoc/>
    public bool TryComplete()
    {
        if (!IsPending)
        {
            return true;
        }

        if (OnRing)
        {
            return false;
        }

        SocketError error = Execute(out TResult result);
        if (error == SocketError.WouldBlock)
        {
            Socket.OnWouldBlock(_direction);
            return false;
        }

        if (error == SocketError.IOPending)
        {
            // Still waiting, but not for an edge (the accept back-off timer will retry): the
            // readiness bit stays set and nothing is re-armed, so the poll back end cannot spin.
            return false;
        }

        if (error == SocketError.Success)
        {
            TrySetResult(result);
        }
        else
        {
            TrySetException(CreateException(error));
        }

        return true;
    }

    /// <summary>Completes the operation from a socket callback other than readiness (e.g. a backoff timer).</summary>
    protected void Fail(Exception error) => TrySetException(error);

    protected sealed override void OnCompleting()
    {
        Socket.EndWait(this, _direction);
        OnFinished();
    }

    /// <summary>Hook for subclasses that hold resources while waiting (timers).</summary>
    protected virtual void OnFinished()
    {
    }

    protected sealed override void OnResultTaken() => Recycle();
}
