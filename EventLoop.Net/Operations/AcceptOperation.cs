using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>An accept waiting for a connection (or for the descriptor back-off to end). Pooled per listener.</summary>
internal sealed class AcceptOperation : SocketOperation<StreamConnection>
{
    private readonly StreamListener _owner;
    private Exception? _failure;

    public AcceptOperation(StreamListener owner, LoopSocket socket)
        : base(socket, SocketDirection.Read)
    {
        _owner = owner;
    }

    public ValueTask<StreamConnection> Start(CancellationToken cancellationToken) =>
        new(this, Suspend(cancellationToken));

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

    protected override Exception CreateException(SocketError error)
    {
        Exception failure = _failure ?? Internal.NetThrowHelper.CreateSocketException(error, "accept on", _owner.LocalEndPoint);
        _failure = null;
        return failure;
    }

    protected override void Recycle() => _owner.ReturnAccept(this);
}
