using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Net.Operations;

/// <summary>
/// The rest of a stream send that did not fit the kernel's buffer: on each write edge it sends as
/// much as the kernel takes, and completes once every byte is with the kernel. Holding the caller's
/// memory (not a copy) is what makes a slow reader slow the writer down instead of growing memory.
/// Pooled per connection.
/// </summary>
internal sealed class SendOperation : SocketOperation<int>
{
    private readonly StreamConnection _owner;
    private ReadOnlyMemory<byte> _remaining;

    public SendOperation(StreamConnection owner, LoopSocket socket)
        : base(socket, SocketDirection.Write)
    {
        _owner = owner;
    }

    /// <summary>Waits to send <paramref name="remaining"/>; the fast path already returned WouldBlock.</summary>
    public ValueTask Start(ReadOnlyMemory<byte> remaining, CancellationToken cancellationToken)
    {
        _remaining = remaining;
        return new ValueTask(this, Suspend(cancellationToken));
    }

    /// <summary>Waits until the connection's ring send is done, then sends <paramref name="remaining"/>.</summary>
    public ValueTask StartAfterRing(ReadOnlyMemory<byte> remaining, CancellationToken cancellationToken)
    {
        _remaining = remaining;
        short version = SuspendOnRing(cancellationToken); // no edge may send ahead of the ring send
        return new ValueTask(this, version);
    }

    /// <summary>The ring send ahead of this one finished: send now, through the ring if small.</summary>
    public void ResumeAfterRing()
    {
        if (!IsPending)
        {
            return;
        }

        OnRing = false;
        if (_owner.TryStartRingSend(_remaining.Span))
        {
            TrySetResult(0);
            return;
        }

        _ = TryComplete();
    }

    protected override void OnFinished()
    {
        OnRing = false;
        _owner.ForgetAfterRingSend(this);
    }

    protected override SocketError Execute(out int result)
    {
        result = 0;
        while (!_remaining.IsEmpty)
        {
            SocketError error = SocketPal.Send(Socket.Fd, _remaining.Span, out int sent);
            if (error != SocketError.Success)
            {
                return error;
            }

            _remaining = _remaining[sent..];
        }

        return SocketError.Success;
    }

    protected override Exception CreateException(SocketError error) => NetThrowHelper.CreateSocketException(error, "send");

    protected override void Recycle()
    {
        _remaining = default;
        _owner.ReturnSend(this);
    }
}
