using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>A datagram receive waiting for a packet. Pooled per socket.</summary>
internal sealed class ReceiveFromOperation : SocketOperation<DatagramReceiveResult>
{
    private readonly DatagramSocket _owner;
    private Memory<byte> _buffer;

    public ReceiveFromOperation(DatagramSocket owner, LoopSocket socket)
        : base(socket, SocketDirection.Read)
    {
        _owner = owner;
    }

    public ValueTask<DatagramReceiveResult> Start(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _buffer = buffer;
        return new ValueTask<DatagramReceiveResult>(this, Suspend(cancellationToken));
    }

    protected override SocketError Execute(out DatagramReceiveResult result) => _owner.ReceiveCore(_buffer.Span, out result);

    protected override Exception CreateException(SocketError error) => NetThrowHelper.CreateSocketException(error, "receive from");

    protected override void Recycle()
    {
        _buffer = default;
        _owner.ReturnReceive(this);
    }
}
