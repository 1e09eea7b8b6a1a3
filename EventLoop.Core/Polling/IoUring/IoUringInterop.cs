using System.Runtime.InteropServices;

namespace EventLoop.Polling;

// The io_uring system calls and kernel structures (include/uapi/linux/io_uring.h), bound
// without liburing: io_uring_setup/enter/register through libc's syscall(2), the rings through
// mmap. Every layout below is the kernel ABI byte for byte (IoUringPollerTests checks the
// sizes and the offsets that matter); the same numbers serve every 64-bit Linux architecture,
// since the io_uring calls were added after the syscall tables were unified (425-427).
internal static unsafe partial class IoUringInterop
{
    private const string LibraryName = "libc";

    private const nint SysSetup = 425;
    private const nint SysEnter = 426;
    private const nint SysRegister = 427;

    // syscall(2) is variadic; on Linux x86_64 and arm64 variadic integer arguments travel in
    // the same registers as fixed ones, so a fixed seven-argument binding is exact.
    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* address, nuint length);

    /// <summary>io_uring_setup(2): returns the ring descriptor, or -1 with errno.</summary>
    internal static int Setup(uint entries, Params* parameters) =>
        (int)Syscall(SysSetup, (nint)entries, (nint)parameters, 0, 0, 0, 0);

    /// <summary>io_uring_enter(2): returns the number of SQEs consumed, or -1 with errno.</summary>
    internal static int Enter(int fd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        (int)Syscall(SysEnter, fd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize);

    /// <summary>io_uring_register(2): returns 0 (or a count), or -1 with errno.</summary>
    internal static int Register(int fd, uint opcode, void* argument, uint count) =>
        (int)Syscall(SysRegister, fd, (nint)opcode, (nint)argument, (nint)count, 0, 0);

    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_POPULATE = 0x08000;

    internal const long IORING_OFF_SQ_RING = 0;
    internal const long IORING_OFF_CQ_RING = 0x8000000;
    internal const long IORING_OFF_SQES = 0x10000000;

    internal const uint IORING_SETUP_CQSIZE = 1u << 3;
    internal const uint IORING_SETUP_CLAMP = 1u << 4;
    internal const uint IORING_SETUP_SUBMIT_ALL = 1u << 7;
    internal const uint IORING_SETUP_COOP_TASKRUN = 1u << 8;

    internal const uint IORING_FEAT_SINGLE_MMAP = 1u << 0;
    internal const uint IORING_FEAT_NODROP = 1u << 1;
    internal const uint IORING_FEAT_EXT_ARG = 1u << 8;
    internal const uint IORING_FEAT_CQE_SKIP = 1u << 11;

    internal const uint IORING_ENTER_GETEVENTS = 1u << 0;
    internal const uint IORING_ENTER_EXT_ARG = 1u << 3;

    internal const uint IORING_REGISTER_PROBE = 8;
    internal const uint IORING_REGISTER_PBUF_RING = 22;
    internal const uint IORING_REGISTER_SYNC_CANCEL = 24;
    internal const ushort IO_URING_OP_SUPPORTED = 1;

    internal const byte IORING_OP_NOP = 0;
    internal const byte IORING_OP_POLL_ADD = 6;
    internal const byte IORING_OP_POLL_REMOVE = 7;
    internal const byte IORING_OP_ACCEPT = 13;
    internal const byte IORING_OP_ASYNC_CANCEL = 14;
    internal const byte IORING_OP_SEND = 26;
    internal const byte IORING_OP_RECV = 27;

    internal const uint MSG_NOSIGNAL = 0x4000;
    internal const uint MSG_WAITALL = 0x100;
    internal const ushort IORING_RECVSEND_POLL_FIRST = 1 << 0;
    internal const ushort IORING_RECV_MULTISHOT = 1 << 1;
    internal const ushort IORING_ACCEPT_MULTISHOT = 1 << 0;
    internal const uint SOCK_NONBLOCK = 0x800;
    internal const uint SOCK_CLOEXEC = 0x80000;

    internal const byte IOSQE_BUFFER_SELECT = 1 << 5;
    internal const byte IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
    internal const uint IORING_CQE_F_BUFFER = 1u << 0;
    internal const int IORING_CQE_BUFFER_SHIFT = 16;

    internal const uint IORING_POLL_ADD_MULTI = 1u << 0;
    internal const uint IORING_CQE_F_MORE = 1u << 1;

    internal const uint IORING_ASYNC_CANCEL_ALL = 1u << 0;
    internal const uint IORING_ASYNC_CANCEL_ANY = 1u << 2;

    internal const int ETIME = 62;
    internal const int EBUSY = 16;
    internal const int ECANCELED = 125;
    internal const int ENOSYS = 38;
    internal const int ENOBUFS = 105;

    /// <summary>struct io_sqring_offsets (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    /// <summary>struct io_cqring_offsets (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    /// <summary>struct io_uring_params (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Params
    {
        public uint SqEntries;
        public uint CqEntries;
        public uint Flags;
        public uint SqThreadCpu;
        public uint SqThreadIdle;
        public uint Features;
        public uint WqFd;
        public uint Resv0, Resv1, Resv2;
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    /// <summary>struct io_uring_sqe (64 bytes); only the fields the poller writes are named.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    internal struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPriority;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Offset;
        [FieldOffset(16)] public ulong Address;
        [FieldOffset(24)] public uint Length;
        [FieldOffset(28)] public uint OpFlags; // poll32_events, cancel_flags, ...
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufferIndex;
        [FieldOffset(42)] public ushort Personality;
        [FieldOffset(44)] public int SpliceFdIn;
        [FieldOffset(48)] public ulong Address3;
        [FieldOffset(56)] public ulong Pad2;
    }

    /// <summary>struct io_uring_cqe (16 bytes, the ring is not set up with CQE32).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Cqe
    {
        public ulong UserData;
        public int Result;
        public uint Flags;
    }

    /// <summary>struct __kernel_timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KernelTimespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct io_uring_getevents_arg (24 bytes), for IORING_ENTER_EXT_ARG.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct GetEventsArg
    {
        public ulong SigMask;
        public uint SigMaskSize;
        public uint MinWaitMicroseconds;
        public ulong Timespec;
    }

    /// <summary>struct io_uring_sync_cancel_reg (64 bytes), for IORING_REGISTER_SYNC_CANCEL.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    internal struct SyncCancelReg
    {
        [FieldOffset(0)] public ulong Address;     // the user_data to match
        [FieldOffset(8)] public int Fd;
        [FieldOffset(12)] public uint Flags;
        [FieldOffset(16)] public KernelTimespec Timeout;   // -1, -1: wait as long as it takes
        [FieldOffset(32)] public byte Opcode;
    }

    /// <summary>struct io_uring_probe header (16 bytes); struct io_uring_probe_op entries (8 bytes each) follow.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProbeHeader
    {
        public byte LastOp;
        public byte OpsLength;
        public ushort Resv;
        public uint Resv2a, Resv2b, Resv2c;
    }

    /// <summary>struct io_uring_probe_op (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProbeOp
    {
        public byte Op;
        public byte Resv;
        public ushort Flags;
        public uint Resv2;
    }
}
