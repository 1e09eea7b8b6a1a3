using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>
/// An accept waiting for a connection (or for the descriptor back-off to end). Pooled per
/// listener. On the io_uring back end it waits on the listener's multishot ring accept
/// (<see cref="RingAcceptor"/>) instead of for readiness.
/// </summary>
internal sealed class AcceptOperation : SocketOperation<StreamConnection>
{
    private readonly StreamListener _owner;
    private Exception? _failure;
    private RingAcceptor? _acceptor;

    public AcceptOperation(StreamListener owner, LoopSocket socket)
        : base(socket, SocketDirection.Read)
    {
        _owner = owner;
    }

    public ValueTask<StreamConnection> Start(CancellationToken cancellationToken) =>
        new(this, Suspend(cancellationToken));

    /// <summary>Waits on <paramref name="acceptor"/>, which has nothing queued.</summary>
    public ValueTask<StreamConnection> StartOnRing(RingAcceptor acceptor, CancellationToken cancellationToken)
    {
        short version = SuspendOnRing(cancellationToken);
        if (IsPending)
        {
            _acceptor = acceptor;
            try
            {
                acceptor.Wait(this);
            }
            catch (Exception error)
            {
                TrySetException(error);
            }
        }

        return new ValueTask<StreamConnection>(this, version);
    }

    /// <summary>The ring accepted a connection for this wait.</summary>
    public void CompleteFromRing(StreamConnection connection) => TrySetResult(connection);

    /// <summary>The ring reported a failure for this wait.</summary>
    public void FailFromRing(Exception error) => Fail(error);

    /// <summary>The ring accept cannot wait on this listener: wait for readiness and accept then.</summary>
    public void FallBackFromRing()
    {
        _acceptor = null;
        FallBackToReadiness();
    }

    /// <summary>The back-off timer fired: try again (completes the operation or keeps it waiting).</summary>
    public void Retry()
    {
        if (IsPending)
        {
            TryComplete();
        }
    }

    protected override SocketError Execute(out StreamConnection result)
    {
        SocketError error = _owner.TryAccept(out result!, out _failure);
        return error;
    }

    protected override void OnFinished()
    {
        if (_acceptor is { } acceptor)
        {
            _acceptor = null;
            acceptor.Forget(this);
        }

        OnRing = false;
    }

    protected override Exception CreateException(SocketError error)
    {
        Exception failure = _failure ?? Internal.NetThrowHelper.CreateSocketException(error, "accept on", _owner.LocalEndPoint);
        _failure = null;
        return failure;
    }

    protected override void Recycle() => _owner.ReturnAccept(this);
}
