using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using EventLoop.Net.Internal;

namespace EventLoop.Net;

/// <summary>
/// The <see cref="Stream"/> view of a <see cref="StreamConnection"/> (see
/// <see cref="StreamConnection.AsStream"/>). On the loop thread, asynchronous reads and writes go
/// straight to the connection (allocation-free when warm); from any other thread they are posted
/// to the loop and completed from there, or fail with <see cref="ObjectDisposedException"/> when
/// the loop is disposed first (see <see cref="Internal.LoopInvoke"/>). Synchronous Read and Write block the calling thread, so
/// on the loop thread they throw <see cref="NotSupportedException"/> rather than deadlock it.
/// A socket failure is an <see cref="IOException"/> with the <see cref="SocketException"/> as its
/// inner exception, as <c>NetworkStream</c> reports it.
/// </summary>
internal sealed class LoopStream : Stream
{
    private readonly StreamConnection _connection;
    private PendingIo? _cachedRead;
    private PendingIo? _cachedWrite;

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
            ? AsStreamResult(_connection.ReceiveAsync(buffer, cancellationToken))
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
            ? AsStreamResult(_connection.SendAsync(buffer, cancellationToken))
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
    private ValueTask<int> ReadOffLoop(Memory<byte> buffer, CancellationToken cancellationToken) =>
        new(LoopInvoke.RunAsync(_connection.Loop, () => AsStreamResult(_connection.ReceiveAsync(buffer, cancellationToken))));

    private ValueTask WriteOffLoop(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        new(LoopInvoke.RunAsync(_connection.Loop, () => AsStreamResult(_connection.SendAsync(buffer, cancellationToken))));

    // A success that is already there passes through as it is; anything else (a wait, a failure, a
    // cancellation) goes through a pooled PendingIo, which reports a socket failure as a Stream does.
    private ValueTask<int> AsStreamResult(ValueTask<int> receive)
    {
        if (receive.IsCompletedSuccessfully)
        {
            return receive;
        }

        PendingIo pending = _cachedRead ?? new PendingIo(this, write: false);
        _cachedRead = null;
        return pending.Wait(receive);
    }

    private ValueTask AsStreamResult(ValueTask send)
    {
        if (send.IsCompletedSuccessfully)
        {
            return send;
        }

        PendingIo pending = _cachedWrite ?? new PendingIo(this, write: true);
        _cachedWrite = null;
        return pending.Wait(send);
    }

    private void ThrowIfLoopThread()
    {
        if (_connection.Loop.CheckAccess())
        {
            throw new NotSupportedException(
                "Synchronous socket I/O would block the loop thread; use ReadAsync/WriteAsync.");
        }
    }

    /// <summary>
    /// A read or write of the stream that waits on the connection's own operation: the awaiter's
    /// continuation is handed straight to that operation (the greenlet, kill and the loop see the
    /// same wait, and nothing is allocated once warm), and its <see cref="SocketException"/> comes
    /// out as the <see cref="IOException"/> a <see cref="Stream"/> reports, the socket error inside
    /// (as <c>NetworkStream</c> does; HttpClient, for one, wraps only an IOException in
    /// HttpRequestException). One cached per direction, rented by swapping the field with null
    /// and returned by GetResult, like the connection's operations. Loop thread.
    /// </summary>
    private sealed class PendingIo : IValueTaskSource<int>, IValueTaskSource
    {
        private readonly LoopStream _owner;
        private readonly bool _write;
        private readonly Action _resume;
        private ValueTask<int> _receive;
        private ValueTask _send;
        private Action<object?>? _continuation;
        private object? _continuationState;
        private short _version;

        public PendingIo(LoopStream owner, bool write)
        {
            _owner = owner;
            _write = write;
            _resume = Resume;
        }

        public ValueTask<int> Wait(ValueTask<int> receive)
        {
            _receive = receive;
            return new ValueTask<int>(this, _version);
        }

        public ValueTask Wait(ValueTask send)
        {
            _send = send;
            return new ValueTask(this, _version);
        }

        public ValueTaskSourceStatus GetStatus(short token)
        {
            CheckToken(token);
            (bool completed, bool succeeded, bool canceled) = _write
                ? (_send.IsCompleted, _send.IsCompletedSuccessfully, _send.IsCanceled)
                : (_receive.IsCompleted, _receive.IsCompletedSuccessfully, _receive.IsCanceled);
            return !completed ? ValueTaskSourceStatus.Pending
                : succeeded ? ValueTaskSourceStatus.Succeeded
                : canceled ? ValueTaskSourceStatus.Canceled
                : ValueTaskSourceStatus.Faulted;
        }

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            CheckToken(token);
            _continuation = continuation;
            _continuationState = state;
            bool onContext = (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0;
            bool flow = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0;
            if (_write)
            {
                ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter awaiter = _send.ConfigureAwait(onContext).GetAwaiter();
                if (flow)
                {
                    awaiter.OnCompleted(_resume);
                }
                else
                {
                    awaiter.UnsafeOnCompleted(_resume);
                }
            }
            else
            {
                ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter awaiter = _receive.ConfigureAwait(onContext).GetAwaiter();
                if (flow)
                {
                    awaiter.OnCompleted(_resume);
                }
                else
                {
                    awaiter.UnsafeOnCompleted(_resume);
                }
            }
        }

        public int GetResult(short token)
        {
            CheckToken(token);
            ValueTask<int> receive = _receive;
            Recycle();
            try
            {
                return receive.GetAwaiter().GetResult();
            }
            catch (SocketException ex)
            {
                throw new IOException($"Unable to read data from the transport connection: {ex.Message}.", ex);
            }
        }

        void IValueTaskSource.GetResult(short token)
        {
            CheckToken(token);
            ValueTask send = _send;
            Recycle();
            try
            {
                send.GetAwaiter().GetResult();
            }
            catch (SocketException ex)
            {
                throw new IOException($"Unable to write data to the transport connection: {ex.Message}.", ex);
            }
        }

        private void Resume()
        {
            Action<object?> continuation = _continuation!;
            object? state = _continuationState;
            _continuation = null;
            _continuationState = null;
            continuation(state);
        }

        private void Recycle()
        {
            _receive = default;
            _send = default;
            _version++;
            if (_write)
            {
                _owner._cachedWrite ??= this;
            }
            else
            {
                _owner._cachedRead ??= this;
            }
        }

        private void CheckToken(short token)
        {
            if (token != _version)
            {
                throw new InvalidOperationException("The stream operation was already awaited; a ValueTask may be awaited once.");
            }
        }
    }
}
