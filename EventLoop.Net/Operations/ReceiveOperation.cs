using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>A stream receive waiting for data; completes with the byte count (0 = end of stream). Pooled per connection.</summary>
internal sealed class ReceiveOperation : SocketOperation<int>
{
    private readonly StreamConnection _owner;
    private Memory<byte> _buffer;

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

    protected override Exception CreateException(SocketError error) => NetThrowHelper.CreateSocketException(error, "receive");

    protected override void Recycle()
    {
        _buffer = default;
        _owner.ReturnReceive(this);
    }
}
