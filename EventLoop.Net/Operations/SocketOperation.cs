using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using EventLoop.Coroutines;

namespace EventLoop.Net.Operations;

/// <summary>
/// A pooled socket operation that waits for one direction of a <see cref="LoopSocket"/>: the state
/// shared by receive, send, accept, connect and the datagram operations. An owner keeps one per
/// direction and rents it by swapping its cache field with null, so a warm operation allocates
/// nothing; <see cref="IValueTaskSource{TResult}.GetResult"/> hands it back. Completes with the
/// result, a <see cref="SocketException"/>, <see cref="OperationCanceledException"/> (token or
/// greenlet kill; the socket stays usable) or <see cref="ObjectDisposedException"/> (closed).
/// Loop-thread only, except the token callback, which hops to the loop.
/// </summary>
/// <typeparam name="TResult">The result type.</typeparam>
internal abstract class SocketOperation<TResult> : SocketWait, IValueTaskSource<TResult>, ITokenCancellable
{
    private LoopValueTaskSourceCore<TResult> _core;
    private TokenRegistration _registration;
    private readonly SocketDirection _direction;

    protected SocketOperation(LoopSocket socket, SocketDirection direction)
    {
        Socket = socket;
        _direction = direction;
    }

    /// <summary>The socket this operation runs on.</summary>
    protected LoopSocket Socket { get; }

    /// <summary>The current version, for a ValueTask over this source.</summary>
    protected short Version => _core.Version;

    /// <summary>
    /// The operation's system call: Success (with the result) or a failure completes it;
    /// WouldBlock keeps it waiting for the next edge; IOPending keeps it waiting for something
    /// else (a timer) that will call <see cref="TryComplete"/>.
    /// </summary>
    protected abstract SocketError Execute(out TResult result);

    /// <summary>Builds the exception for a failed system call.</summary>
    protected abstract Exception CreateException(SocketError error);

    /// <summary>Called once the result was taken: return this object to the owner's cache and drop buffers.</summary>
    protected abstract void Recycle();

    /// <summary>
    /// Parks the operation after its first attempt returned WouldBlock: links it to the current
    /// greenlet and to <paramref name="cancellationToken"/> and waits for readiness. The caller
    /// wraps the returned version in a ValueTask.
    /// </summary>
    /// <returns>The token for the ValueTask; the operation may already be complete (killed greenlet, cancelled token).</returns>
    protected short Suspend(CancellationToken cancellationToken)
    {
        _core.Reset();
        short version = _core.Version;
        Exception? abort = AttachToCurrentGreenlet(Socket.Loop);
        if (abort is not null)
        {
            _core.SetException(Socket.Loop, abort);
            return version;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            Detach();
            _core.SetException(Socket.Loop, new OperationCanceledException(cancellationToken));
            return version;
        }

        Socket.BeginWait(this, _direction);
        _registration.Register(cancellationToken, this, version);

        return version;
    }

    internal sealed override bool TryComplete()
    {
        if (_core.IsCompleted)
        {
            return true;
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
            Finish(result, null);
        }
        else
        {
            Finish(default!, CreateException(error));
        }

        return true;
    }

    internal sealed override void Abort(Exception error)
    {
        if (!_core.IsCompleted)
        {
            Finish(default!, error);
        }
    }

    /// <summary>Completes the operation from a socket callback other than readiness (e.g. a backoff timer).</summary>
    protected void Fail(Exception error) => Abort(error);

    /// <summary>True while the operation waits.</summary>
    protected bool IsPending => !_core.IsCompleted;

    Loop ITokenCancellable.TokenLoop => Socket.Loop;

    void ITokenCancellable.CancelFromToken(short version, CancellationToken token)
    {
        if (version == _core.Version && !_core.IsCompleted)
        {
            Finish(default!, new OperationCanceledException(token));
        }
    }

    private void Finish(TResult result, Exception? error)
    {
        Detach();
        Socket.EndWait(this, _direction);
        _registration.Release();
        OnFinished();
        if (error is null)
        {
            _core.SetResult(Socket.Loop, result);
        }
        else
        {
            _core.SetException(Socket.Loop, error);
        }
    }

    /// <summary>Hook for subclasses that hold resources while waiting (timers).</summary>
    protected virtual void OnFinished()
    {
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(Socket.Loop, continuation, state, token, flags);

    public TResult GetResult(short token)
    {
        TResult? result = _core.TakeResult(token, out Exception? error);
        _core.Reset(); // invalidates the token before the object can be handed out again
        Recycle();
        LoopValueTaskSourceCore<TResult>.ThrowIfError(error);
        return result!;
    }
}
