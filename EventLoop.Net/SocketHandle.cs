using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventLoop.Net;

/// <summary>
/// Owns a socket descriptor's lifetime. Higher layers keep the plain <see cref="Fd"/> for system calls
/// (no AddRef/Release per call on the hot path, which is safe because only the loop thread closes) and
/// dispose this handle to close the socket exactly once, or let its finalizer do it if they leak it.
/// </summary>
/// <remarks>Not <see cref="Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid"/>: descriptor 0 is a valid socket.</remarks>
internal sealed class SocketHandle : SafeHandle
{
    /// <summary>Creates an invalid handle (descriptor -1).</summary>
    public SocketHandle()
        : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Wraps <paramref name="fd"/>.</summary>
    /// <param name="fd">An open socket descriptor, or -1.</param>
    /// <param name="ownsHandle">True to close the descriptor when this handle is released.</param>
    public SocketHandle(int fd, bool ownsHandle = true)
        : base(-1, ownsHandle)
    {
        SetHandle(fd);
    }

    /// <summary>True for descriptor -1 (never opened, or created invalid).</summary>
    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor. Still the old number after the handle is closed, so check <see cref="SafeHandle.IsClosed"/> first.</summary>
    public int Fd => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() =>
        // Only EBADF reports failure: it means someone closed our descriptor behind our back.
        SocketPal.Close((int)handle) != SocketError.OperationAborted;
}
