using System.Net;
using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>A datagram send (to an address, or to the socket's peer) waiting for room in the send buffer. Pooled per socket.</summary>
internal sealed class SendToOperation : SocketOperation<int>
{
    private readonly DatagramSocket _owner;
    private ReadOnlyMemory<byte> _datagram;
    private EndPoint? _destination;

    public SendToOperation(DatagramSocket owner, LoopSocket socket)
        : base(socket, SocketDirection.Write)
    {
        _owner = owner;
    }

    public ValueTask<int> Start(ReadOnlyMemory<byte> datagram, EndPoint? destination, CancellationToken cancellationToken)
    {
        _datagram = datagram;
        _destination = destination;
        return new ValueTask<int>(this, Suspend(cancellationToken));
    }

    protected override SocketError Execute(out int result) => SocketPal.SendTo(Socket.Fd, _datagram.Span, _destination, out result);

    protected override Exception CreateException(SocketError error) => _owner.CreateSendException(error, _destination);

    protected override void Recycle()
    {
        _datagram = default;
        _destination = null;
        _owner.ReturnSend(this);
    }
}
