using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Extending;

/// <summary>A non-blocking pipe for the driver tests, made with the test's own system calls.</summary>
internal static partial class TestPipe
{
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>Both ends, non-blocking, owned by the returned handles.</summary>
    public static (SafeFileHandle Read, SafeFileHandle Write) Create()
    {
        Span<int> fds = stackalloc int[2];
        if (Pipe2(ref MemoryMarshal.GetReference(fds), O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>Writes all of <paramref name="data"/> (a pipe's buffer holds far more than a test writes).</summary>
    public static void Write(SafeFileHandle fd, ReadOnlySpan<byte> data)
    {
        nint n = WriteNative(fd, ref MemoryMarshal.GetReference(data), data.Length);
        if (n != data.Length)
        {
            throw new IOException($"write failed: {n}, errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(SafeFileHandle fd, ref byte buffer, nint count);
}
