using System.Runtime.InteropServices;

namespace EventLoop.Interop;

// The raw system calls the runtime makes, shared by the pollers, the wakers and (later) the
// network layer. Every binding sets SetLastError so callers read errno with
// Marshal.GetLastPInvokeError() right after a negative return; none of them throws.
//
// "libc" is special-cased by the .NET native-library loader: it resolves to the platform's C
// library (libc.so.6 on glibc, libc.dylib on macOS, libc.so.7 on FreeBSD), so one name
// serves every Unix.
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "pipe", SetLastError = true)]
    internal static partial int Pipe(int* fds);

    /// <remarks>Linux and FreeBSD only; macOS has no pipe2 (use <see cref="Pipe"/> + fcntl).</remarks>
    [LibraryImport(LibraryName, EntryPoint = "pipe2", SetLastError = true)]
    internal static partial int Pipe2(int* fds, int flags);

    /// <remarks>Linux only.</remarks>
    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initialValue, int flags);

    /// <remarks>Linux only.</remarks>
    [LibraryImport(LibraryName, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    /// <remarks>
    /// Linux only. <paramref name="ev"/> points at an <see cref="EpollEventPacked"/> or an
    /// <see cref="EpollEventAligned"/>, whichever <see cref="EpollEventIsPacked"/> selects.
    /// </remarks>
    [LibraryImport(LibraryName, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, void* ev);

    /// <remarks>Linux only. <paramref name="events"/> is an array in the layout <see cref="EpollEventIsPacked"/> selects.</remarks>
    [LibraryImport(LibraryName, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, void* events, int maxEvents, int timeoutMs);

    // nfds_t is unsigned long on Linux but unsigned int on macOS and FreeBSD. Passing a
    // pointer-sized value is correct for both: it travels in a register and a callee that
    // expects 32 bits reads only the low half.
    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>fcntl with an int argument (F_GETFD, F_SETFD, F_GETFL, F_SETFL).</summary>
    /// <remarks>
    /// fcntl is variadic. On every ABI .NET supports except Apple arm64 a variadic argument is
    /// passed exactly like a fixed one, so a plain three-argument binding works. Apple arm64
    /// passes variadic arguments on the stack; <see cref="FcntlInt"/> handles that case.
    /// </remarks>
    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlFixed(int fd, int command, int argument);

    // Apple arm64: eight integer registers are filled by fd, command and six dummies, which
    // pushes `argument` onto the stack where the variadic callee reads it (one 8-byte slot).
    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlAppleArm64(
        int fd, int command, nint pad2, nint pad3, nint pad4, nint pad5, nint pad6, nint pad7, nint argument);

    private static readonly bool s_variadicOnStack =
        OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>Calls fcntl(fd, command, argument) with the variadic calling convention of the platform.</summary>
    internal static int FcntlInt(int fd, int command, int argument) =>
        s_variadicOnStack
            ? FcntlAppleArm64(fd, command, 0, 0, 0, 0, 0, 0, argument)
            : FcntlFixed(fd, command, argument);

    // struct epoll_event { uint32_t events; epoll_data_t data; } where data is a 64-bit union.
    // The kernel header marks it __attribute__((packed)) on x86_64 only (a 32-bit-era ABI
    // choice kept for compatibility), giving 12 bytes with data at offset 4. On 32-bit x86 a
    // 64-bit integer is 4-byte aligned, so natural layout is the same 12 bytes. Everywhere else
    // (arm64, arm, riscv64, ...) the struct is naturally aligned: 16 bytes, data at offset 8.
    // Getting this wrong silently corrupts every event after the first, so the layout is
    // chosen once, here, from the process architecture.
    internal static readonly bool EpollEventIsPacked =
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    /// <summary>sizeof(struct epoll_event) on this architecture.</summary>
    internal static readonly int EpollEventSize =
        EpollEventIsPacked ? sizeof(EpollEventPacked) : sizeof(EpollEventAligned);

    /// <summary>struct epoll_event on x86_64 and x86 (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct EpollEventPacked
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>struct epoll_event on arm64 and the other naturally aligned ABIs (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EpollEventAligned
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>struct pollfd; the same 8-byte layout on every Unix.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }
}
