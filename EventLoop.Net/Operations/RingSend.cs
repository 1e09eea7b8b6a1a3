using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EventLoop.Net.Operations;

/// <summary>
/// A small send handed to the io_uring ring as a copy, so <see cref="StreamConnection.SendAsync"/>
/// completes at once without a system call: the loop's next <c>io_uring_enter</c> (or an earlier
/// <see cref="CompletionIo.Submit"/>) gives it to the kernel. At most one per connection; a send
/// or a shutdown behind it waits for it (one stream, one order) and is kept here, so a completion
/// with nothing behind it touches this object alone. The copy goes into a buffer the connection
/// keeps (grown to the largest small send, in powers of two): a shared pool would not do, since
/// every connection of a busy server has a copy on the ring at once, more than the pool caches,
/// and each miss would allocate. The buffer lives on the pinned object heap and is handed to the
/// ring as pre-pinned memory, so a send takes no GC handle (pinning an ordinary array allocates
/// one and frees it at completion, two calls into the runtime per message). A failure is kept for
/// the connection's next send. Sends made while the copy is still queued (the iteration's
/// <c>io_uring_enter</c> has not come yet: several greenlets writing to one connection, or one
/// writing several pieces) join it, up to <see cref="MaxCopy"/> in all: they go out as one send,
/// in their order, and each completes at once, as each completes at once on epoll when the socket
/// buffer has room. Loop-thread only.
/// </summary>
internal sealed class RingSend : ICompletionHandler
{
    /// <summary>The largest send copied to the ring; larger ones are sent by the caller's buffer.</summary>
    public const int MaxCopy = 16 * 1024;

    private readonly StreamConnection _owner;
    private readonly LoopSocket _socket;
    private readonly CompletionRequest _request;
    private byte[] _copy = [];
    private bool _inFlight;
    private int _offset;
    private int _end;

    public RingSend(StreamConnection owner, LoopSocket socket, CompletionIo io)
    {
        _owner = owner;
        _socket = socket;
        _request = io.CreateRequest(this);
    }

    /// <summary>True from <see cref="TryStart"/> until the kernel reported the whole copy sent (or failed).</summary>
    public bool InFlight => _inFlight;

    /// <summary>A send waiting for this one to finish.</summary>
    public SendOperation? AfterSend { get; set; }

    /// <summary>A <c>ShutdownSend</c> waiting for this send to finish.</summary>
    public bool ShutdownAfterSend { get; set; }

    /// <summary>A failure of a completed ring send not yet reported to the caller (Success when none).</summary>
    public SocketError Error { get; private set; }

    /// <summary>
    /// Copies <paramref name="data"/> (at most <see cref="MaxCopy"/> bytes) and queues it; false
    /// when the ring refused it (its submission queue is jammed), and nothing was queued.
    /// </summary>
    public bool TryStart(ReadOnlySpan<byte> data)
    {
        if (_copy.Length < data.Length)
        {
            _copy = AllocateCopy(data.Length);
        }

        data.CopyTo(_copy);
        try
        {
            _request.Send(_socket.Handle, MemoryMarshal.CreateFromPinnedArray(_copy, 0, data.Length));
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        _inFlight = true;
        _offset = 0;
        _end = data.Length;
        return true;
    }

    /// <summary>
    /// Adds <paramref name="data"/> to the copy while the kernel has not seen it yet: the queued
    /// send is withdrawn (no system call) and queued again with the data behind it. False when
    /// the kernel has the copy already, something waits behind it, or the whole would pass
    /// <see cref="MaxCopy"/>; the caller then waits for the copy as before.
    /// </summary>
    public bool TryAppend(ReadOnlySpan<byte> data)
    {
        int total = _end + data.Length;
        if (!_inFlight || _offset != 0 || AfterSend is not null || ShutdownAfterSend || total > MaxCopy || !_request.IsQueued)
        {
            return false;
        }

        _request.TryCancel(out _); // still queued: withdrawn, the handler is not told
        if (_copy.Length < total)
        {
            byte[] grown = AllocateCopy(total);
            _copy.AsSpan(0, _end).CopyTo(grown);
            _copy = grown;
        }

        data.CopyTo(_copy.AsSpan(_end));
        _end = total;
        try
        {
            _request.Send(_socket.Handle, MemoryMarshal.CreateFromPinnedArray(_copy, 0, total));
        }
        catch (InvalidOperationException)
        {
            // The ring refused even after submitting its queue (its completion queue is backed
            // up): the copy is lost, and the next send reports it as a failed send would.
            _inFlight = false;
            Error = SocketError.NoBufferSpaceAvailable;
        }

        return true;
    }

    /// <summary>Takes the pending failure: it is reported once.</summary>
    public SocketError TakeError()
    {
        SocketError error = Error;
        Error = SocketError.Success;
        return error;
    }

    private static byte[] AllocateCopy(int length) =>
        GC.AllocateUninitializedArray<byte>(Math.Max(64, (int)BitOperations.RoundUpToPowerOf2((uint)length)), pinned: true);

    void ICompletionHandler.OnCompleted(CompletionRequest request, int result)
    {
        if (result > 0 && _offset + result < _end && !_socket.IsClosed)
        {
            // Short (a failure after part was sent, or a kernel that does not retry): the rest
            // goes again, and reports the failure if there is one.
            _offset += result;
            _request.Send(_socket.Handle, MemoryMarshal.CreateFromPinnedArray(_copy, _offset, _end - _offset));
            return;
        }

        if (result < 0 && !_socket.IsClosed)
        {
            Error = SocketErrorPal.FromErrno(-result);
        }

        _inFlight = false;
        if (AfterSend is not null || ShutdownAfterSend)
        {
            // Most sends have nothing behind them: their completion touches this object alone.
            _owner.OnRingSendFinished(this);
        }
    }
}
