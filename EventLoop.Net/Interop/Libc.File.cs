using System.Runtime.InteropServices;

namespace EventLoop.Net.Interop;

/// <summary>The file type of a path, for a Unix listener that must tell its own stale socket file from anything else.</summary>
internal static unsafe partial class Libc
{
    /// <summary><c>statx</c> directory descriptor: relative paths are taken from the working directory.</summary>
    internal const int AT_FDCWD = -100;

    /// <summary><c>statx</c> flag: a symbolic link is reported as itself, not followed.</summary>
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary><c>statx</c> mask: only the file type (<c>stx_mode &amp; S_IFMT</c>) is needed.</summary>
    internal const uint STATX_TYPE = 0x1;

    /// <summary>Size of <c>struct statx</c> (the same on every architecture).</summary>
    internal const int StatxSize = 256;

    /// <summary>Offset of <c>stx_mode</c> (a <c>__u16</c>) in <c>struct statx</c>.</summary>
    internal const int StatxModeOffset = 28;

    /// <summary>The file-type bits of a mode (<c>S_IFMT</c>).</summary>
    internal const int FileTypeMask = 0xF000;

    /// <summary>File type: a socket (<c>S_IFSOCK</c>).</summary>
    internal const int FileTypeSocket = 0xC000;

    // glibc 2.28+; the caller treats a missing entry point as "not known to be a socket".
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int statx(int dirfd, byte* pathname, int flags, uint mask, byte* statxbuf);
}
