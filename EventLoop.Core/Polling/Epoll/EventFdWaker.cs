using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;

namespace EventLoop.Polling;

/// <summary>
/// Linux wake-up descriptor: an eventfd counter. Wake adds one, Drain reads (and so resets)
/// it. One descriptor instead of a pipe's two, and writes never fill up in practice.
/// </summary>
internal sealed unsafe class EventFdWaker : IWaker
{
    private readonly CloseGate _gate = new();
    private readonly int _fd;

    /// <exception cref="System.ComponentModel.Win32Exception">eventfd failed (e.g. EMFILE).</exception>
    public EventFdWaker()
    {
        _fd = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_fd < 0)
        {
            throw CreateException("eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)", Marshal.GetLastPInvokeError());
        }
    }

    public int Fd => _fd;

    /// <summary>Any thread. A no-op after <see cref="Dispose"/>.</summary>
    public void Wake()
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
            ulong one = 1;
            // EAGAIN: the counter is at its maximum, so the descriptor is readable already.
            WakeSignal.Write(_fd, (byte*)&one, sizeof(ulong), "eventfd");
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
            ulong value;
            // One read resets the counter; reading until EAGAIN also absorbs a Wake that
            // lands between the two.
            WakeSignal.Drain(_fd, (byte*)&value, sizeof(ulong), "eventfd");
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Closes the descriptor once no Wake is in flight. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (_gate.TryClose())
        {
            _ = Close(_fd);
        }
    }
}
