using EventLoop.Net.Internal;

namespace EventLoop.Net;

/// <summary>
/// The <see cref="Stream"/> view of a <see cref="StreamConnection"/> (see
/// <see cref="StreamConnection.AsStream"/>). On the loop thread, asynchronous reads and writes go
/// straight to the connection (allocation-free when warm); from any other thread they are posted
/// to the loop and completed from there. Synchronous Read and Write block the calling thread, so
/// on the loop thread they throw <see cref="NotSupportedException"/> rather than deadlock it.
/// </summary>
internal sealed class LoopStream : Stream
{
    private readonly StreamConnection _connection;

    public LoopStream(StreamConnection connection)
    {
        _connection = connection;
    }

    public override bool CanRead => !_connection.IsDisposed;

    public override bool CanWrite => !_connection.IsDisposed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException("A socket stream has no length.");

    public override long Position
    {
        get => throw new NotSupportedException("A socket stream cannot seek.");
        set => throw new NotSupportedException("A socket stream cannot seek.");
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        return _connection.Loop.CheckAccess()
            ? _connection.ReceiveAsync(buffer, cancellationToken)
            : ReadOffLoop(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        return _connection.Loop.CheckAccess()
            ? _connection.SendAsync(buffer, cancellationToken)
            : WriteOffLoop(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfLoopThread();
        return ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfLoopThread();
        byte[] temporary = new byte[buffer.Length];
        int read = ReadAsync(temporary).AsTask().GetAwaiter().GetResult();
        temporary.AsSpan(0, read).CopyTo(buffer);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfLoopThread();
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfLoopThread();
        WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();
    }

    public override void Flush()
    {
        // Every completed write is already with the kernel: there is nothing to flush.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A socket stream cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("A socket stream cannot seek.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _connection.Dispose();
        }

        base.Dispose(disposing);
    }

    // Off the loop only: a lambda capturing the arguments makes its closure on entry to the method
    // that declares them, so in ReadAsync it would cost every read on the loop an allocation.
    private ValueTask<int> ReadOffLoop(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        StreamConnection connection = _connection;
        return new ValueTask<int>(LoopInvoke.RunAsync(connection.Loop, () => connection.ReceiveAsync(buffer, cancellationToken)));
    }

    private ValueTask WriteOffLoop(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        StreamConnection connection = _connection;
        return new ValueTask(LoopInvoke.RunAsync(connection.Loop, () => connection.SendAsync(buffer, cancellationToken)));
    }

    private void ThrowIfLoopThread()
    {
        if (_connection.Loop.CheckAccess())
        {
            throw new NotSupportedException(
                "Synchronous socket I/O would block the loop thread; use ReadAsync/WriteAsync.");
        }
    }
}
