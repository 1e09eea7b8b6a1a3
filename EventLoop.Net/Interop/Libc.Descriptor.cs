using System.Runtime.InteropServices;

namespace EventLoop.Net.Interop;

/// <summary>Descriptor duplication, for handing an accepted connection to another loop; descriptor flags.</summary>
internal static partial class Libc
{
    /// <summary><c>fcntl</c> command: duplicate with close-on-exec.</summary>
    internal const int F_DUPFD_CLOEXEC = 1030;

    /// <summary><c>fcntl</c> command: the descriptor flags (<see cref="FD_CLOEXEC"/>).</summary>
    internal const int F_GETFD = 1;

    /// <summary><c>fcntl</c> command: the file status flags (<see cref="O_NONBLOCK"/>).</summary>
    internal const int F_GETFL = 3;

    /// <summary>Descriptor flag: closed on exec.</summary>
    internal const int FD_CLOEXEC = 1;

    /// <summary>File status flag: non-blocking.</summary>
    internal const int O_NONBLOCK = 0x800;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);
}
