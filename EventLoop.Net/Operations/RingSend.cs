using System.Buffers;
using System.Net.Sockets;

namespace EventLoop.Net.Operations;

/// <summary>
/// A small send handed to the io_uring ring as a copy, so <see cref="StreamConnection.SendAsync"/>
/// completes at once without a system call: the loop's next <c>io_uring_enter</c> (or an earlier
/// <see cref="CompletionIo.Submit"/>) gives it to the kernel. At most one per connection; sends
/// behind it wait for it (one stream, one order). The copy is rented from the shared array pool
/// and returned on completion. A failure is kept for the connection's next send. Loop-thread only.
/// </summary>
internal sealed class RingSend : ICompletionHandler
{
    /// <summary>The largest send copied to the ring; larger ones are sent by the caller's buffer.</summary>
    public const int MaxCopy = 16 * 1024;

    private readonly StreamConnection _owner;
    private readonly LoopSocket _socket;
    private readonly CompletionRequest _request;
    private byte[]? _copy;
    private int _offset;
    private int _end;

    public RingSend(StreamConnection owner, LoopSocket socket, CompletionIo io)
    {
        _owner = owner;
        _socket = socket;
        _request = io.CreateRequest(this);
    }

    /// <summary>True from <see cref="TryStart"/> until the kernel reported the whole copy sent (or failed).</summary>
    public bool InFlight => _copy is not null;

    /// <summary>A failure of a completed ring send not yet reported to the caller (Success when none).</summary>
    public SocketError Error { get; private set; }

    /// <summary>
    /// Copies <paramref name="data"/> (at most <see cref="MaxCopy"/> bytes) and queues it; false
    /// when the ring refused it (its submission queue is jammed), and nothing was queued.
    /// </summary>
    public bool TryStart(ReadOnlySpan<byte> data)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        try
        {
            _request.Send(_socket.Handle, copy.AsMemory(0, data.Length));
        }
        catch (InvalidOperationException)
        {
            ArrayPool<byte>.Shared.Return(copy);
            return false;
        }

        _copy = copy;
        _offset = 0;
        _end = data.Length;
        return true;
    }

    /// <summary>Takes the pending failure: it is reported once.</summary>
    public SocketError TakeError()
    {
        SocketError error = Error;
        Error = SocketError.Success;
        return error;
    }

    void ICompletionHandler.OnCompleted(CompletionRequest request, int result)
    {
        if (result > 0 && _offset + result < _end && !_socket.IsClosed)
        {
            // Short (a failure after part was sent, or a kernel that does not retry): the rest
            // goes again, and reports the failure if there is one.
            _offset += result;
            _request.Send(_socket.Handle, _copy.AsMemory(_offset, _end - _offset));
            return;
        }

        if (result < 0 && !_socket.IsClosed)
        {
            Error = SocketErrorPal.FromErrno(-result);
        }

        ArrayPool<byte>.Shared.Return(_copy!);
        _copy = null;
        _owner.OnRingSendFinished();
    }
}
