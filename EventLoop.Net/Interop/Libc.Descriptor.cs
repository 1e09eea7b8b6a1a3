using System.Runtime.InteropServices;

namespace EventLoop.Net.Interop;

/// <summary>Descriptor duplication, for handing an accepted connection to another loop.</summary>
internal static partial class Libc
{
    /// <summary><c>fcntl</c> command: duplicate with close-on-exec.</summary>
    internal const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);
}
