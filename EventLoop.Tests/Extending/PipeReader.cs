using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Extending;

/// <summary>
/// A driver written the way a user outside this repository would write one, against EventLoop.Core's
/// public API only: the read end of a pipe on the loop. A read that has to wait is a pooled
/// <see cref="LoopWaitSource{TResult}"/>, so <see cref="Greenlet.Kill"/>, <c>FailAfter</c> and a
/// token interrupt it exactly as they interrupt a socket receive, and a warm read allocates nothing.
/// The descriptor is watched with <see cref="Loop.Watch"/>, edge-triggered: read while the
/// descriptor is known to be readable; on EAGAIN, <see cref="ReadinessWatch.Arm"/> and wait for
/// the report. Loop-thread only; one read at a time.
/// </summary>
public sealed partial class PipeReader : IReadinessHandler, IDisposable
{
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    private readonly SafeFileHandle _handle;
    private readonly ReadinessWatch _watch;
    private readonly ReadOperation _read;
    private bool _readable = true; // optimistic: data may be there already
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="handle"/> (a non-blocking pipe's read end) and watches it on <paramref name="loop"/>.</summary>
    public PipeReader(Loop loop, SafeFileHandle handle)
    {
        _handle = handle;
        _read = new ReadOperation(loop, this);
        _watch = loop.Watch(handle, IoEvents.Read, this);
    }

    /// <summary>Reads into <paramref name="buffer"/>; 0 means the writer closed its end.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _watch.Loop.VerifyAccess();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_read.IsOutstanding)
        {
            throw new InvalidOperationException("A read is already in progress.");
        }

        if (_readable && TryRead(buffer.Span, out int read, out Exception? error))
        {
            return error is null ? new ValueTask<int>(read) : ValueTask.FromException<int>(error);
        }

        return _read.Start(buffer, cancellationToken);
    }

    /// <summary>Fails a pending read with <see cref="ObjectDisposedException"/>, stops watching, closes the descriptor.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _read.TrySetException(new ObjectDisposedException(nameof(PipeReader)));
        _watch.Dispose();
        _handle.Dispose();
    }

    void IReadinessHandler.OnReady(ReadinessWatch watch, IoEvents events)
    {
        _readable = true;
        if (_read.IsPending)
        {
            _read.Complete();
        }
    }

    void IReadinessHandler.OnLoopDisposed(ReadinessWatch watch) => Dispose();

    /// <summary>One read(2). False when it would block (the watch is armed); true with the count or an error otherwise.</summary>
    private bool TryRead(Span<byte> buffer, out int read, out Exception? error)
    {
        error = null;
        while (true)
        {
            nint n = Read(_handle, ref MemoryMarshal.GetReference(buffer), buffer.Length);
            if (n >= 0)
            {
                read = (int)n;
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR)
            {
                continue;
            }

            read = 0;
            if (errno == EAGAIN)
            {
                _readable = false;
                _watch.Arm(IoEvents.Read);
                return false;
            }

            error = new IOException($"read failed: errno {errno}", errno);
            return true;
        }
    }

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(SafeFileHandle fd, ref byte buffer, nint count);

    /// <summary>The pooled wait of a read: the whole kill, deadline and token behaviour comes from the base class.</summary>
    private sealed class ReadOperation(Loop loop, PipeReader reader) : LoopWaitSource<int>(loop)
    {
        private Memory<byte> _buffer;

        /// <summary>True from <see cref="Start"/> until the awaiter took the outcome.</summary>
        public bool IsOutstanding { get; private set; }

        public ValueTask<int> Start(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            IsOutstanding = true;
            _buffer = buffer;
            Begin(cancellationToken); // false: already completed (killed, deadline passed, token cancelled)
            return new ValueTask<int>(this, Version);
        }

        /// <summary>The descriptor became readable: read now, in the poll phase; on EAGAIN keep waiting.</summary>
        public void Complete()
        {
            if (!reader.TryRead(_buffer.Span, out int read, out Exception? error))
            {
                return;
            }

            if (error is null)
            {
                TrySetResult(read);
            }
            else
            {
                TrySetException(error);
            }
        }

        protected override void OnCompleting() => _buffer = default;

        protected override void OnResultTaken() => IsOutstanding = false;
    }
}
