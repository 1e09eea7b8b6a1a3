using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>A non-blocking connect in progress: waits for writability, then reads the outcome from <c>SO_ERROR</c>. One per attempt.</summary>
internal sealed class ConnectOperation : SocketOperation<bool>
{
    private readonly EndPoint _endPoint;

    public ConnectOperation(LoopSocket socket, EndPoint endPoint)
        : base(socket, SocketDirection.Write)
    {
        _endPoint = endPoint;
    }

    public ValueTask<bool> Start(CancellationToken cancellationToken) => new(this, Suspend(cancellationToken));

    protected override SocketError Execute(out bool result)
    {
        result = true;
        SocketError error = SocketPal.GetSocketError(Socket.Fd, out SocketError outcome);
        if (error != SocketError.Success)
        {
            return error;
        }

        if (outcome != SocketError.Success)
        {
            return outcome;
        }

        // No pending error but no peer either: the edge came before the handshake finished.
        return SocketPal.GetRemoteEndPoint(Socket.Fd, out _) == SocketError.NotConnected
            ? SocketError.WouldBlock
            : SocketError.Success;
    }

    protected override Exception CreateException(SocketError error) =>
        NetThrowHelper.CreateSocketException(error, "connect to", _endPoint);

    protected override void Recycle()
    {
        // One operation per connect attempt: nothing to return.
    }
}
