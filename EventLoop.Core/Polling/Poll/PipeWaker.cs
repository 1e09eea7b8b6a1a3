using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

/// <summary>
/// Portable wake-up descriptor: the self-pipe trick. Wake writes one byte to the write end,
/// <see cref="Fd"/> is the read end, Drain empties it. Both ends are non-blocking, so a full
/// pipe (EAGAIN) just means a wake-up is already pending.
/// </summary>
internal sealed unsafe class PipeWaker : IWaker
{
    // 256: drains a burst of coalesced wake-ups in a few reads without a large stack frame.
    private const int DrainChunk = 256;

    private readonly CloseGate _gate = new();
    private readonly int _readFd;
    private readonly int _writeFd;

    /// <exception cref="System.ComponentModel.Win32Exception">pipe creation failed (e.g. EMFILE).</exception>
    public PipeWaker()
    {
        int* fds = stackalloc int[2];
        if (OperatingSystem.IsMacOS())
        {
            // macOS has no pipe2; the flags are set right after. The window in which another
            // thread's fork+exec could inherit the descriptors is acceptable for a wake pipe.
            if (Pipe(fds) < 0)
            {
                throw CreateException("pipe()", Marshal.GetLastPInvokeError());
            }

            ConfigureFallback(fds[0], fds[1]);
        }
        else if (Pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        {
            throw CreateException("pipe2(O_CLOEXEC | O_NONBLOCK)", Marshal.GetLastPInvokeError());
        }

        _readFd = fds[0];
        _writeFd = fds[1];
    }

    /// <summary>The read end of the pipe.</summary>
    public int Fd => _readFd;

    /// <summary>Any thread. A no-op after <see cref="Dispose"/>.</summary>
    public void Wake()
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
            byte one = 1;
            WakeSignal.Write(_writeFd, &one, 1, "pipe");
        }
        finally
        {
            _gate.Exit();
        }
    }

    public void Drain()
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
            byte* buffer = stackalloc byte[DrainChunk];
            WakeSignal.Drain(_readFd, buffer, DrainChunk, "pipe");
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Closes both ends once no Wake is in flight. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (_gate.TryClose())
        {
            _ = Close(_readFd);
            _ = Close(_writeFd);
        }
    }

    private static void ConfigureFallback(int readFd, int writeFd)
    {
        foreach (int fd in (ReadOnlySpan<int>)[readFd, writeFd])
        {
            int flags = FcntlInt(fd, F_GETFL, 0);
            if (flags < 0
                || FcntlInt(fd, F_SETFL, flags | O_NONBLOCK) < 0
                || FcntlInt(fd, F_SETFD, FD_CLOEXEC) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                _ = Close(readFd);
                _ = Close(writeFd);
                throw CreateException($"fcntl(fd {fd})", errno);
            }
        }
    }
}
