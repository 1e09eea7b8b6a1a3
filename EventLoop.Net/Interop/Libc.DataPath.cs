using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EventLoop.Net.Interop;

// Design note: a stream connection's two system calls per message, receive and send, bypass
// glibc's recv/send wrappers and the SetLastError stub:
//  * recv and send are thread cancellation points, so glibc brackets every call with two atomic
//    updates of the thread's cancellation state; syscall(2) does not (it is a plain trampoline).
//  * A SetLastError stub clears errno before the call and copies it to the runtime's per-thread
//    slot after it, on success too; here the caller reads errno (Marshal.GetLastSystemError) only
//    when the call failed, straight after it.
//  * SuppressGCTransition drops the switch to preemptive mode and back. That is sound only for a
//    call that cannot block, so every call passes MSG_DONTWAIT: the call never waits whatever the
//    descriptor's own mode, and returns in the time the kernel takes to copy the bytes (a GC that
//    another thread starts waits for at most that long).
//  * The receive and send around the call are inlined into StreamConnection's fast paths: after
//    a system call every return to a frame made before it is a mispredicted branch (the return
//    predictor does not survive the kernel), so each frame between the call and the caller that
//    goes on with the data costs ≈ 10 ns (BENCHMARKS.md, "Returns after a system call").
// Architectures without a known system call number (anything but x86-64 and arm64) use the
// ordinary libc bindings.

internal static unsafe partial class Libc
{
    private static readonly bool s_rawDataPath = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    private static readonly nint s_sysSendTo = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 206 : 44;

    private static readonly nint s_sysRecvFrom = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 207 : 45;

    // syscall(2) is variadic; on Linux x86-64 and arm64 variadic integer arguments travel in the
    // same registers as fixed ones, so a fixed seven-argument binding is exact.
    [LibraryImport(LibraryName, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial nint SyscallNoWait(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    /// <summary>
    /// <c>recv(2)</c> with <c>MSG_DONTWAIT</c> added to <paramref name="flags"/>. Returns the byte count, or -1 with
    /// errno set: read it with <see cref="Marshal.GetLastSystemError"/> before any other call.
    /// </summary>
    internal static nint ReceiveNoWait(int sockfd, byte* buf, nuint len, int flags) =>
        s_rawDataPath
            ? SyscallNoWait(s_sysRecvFrom, sockfd, (nint)buf, (nint)len, flags | MSG_DONTWAIT, 0, 0)
            : ReceiveThroughLibc(sockfd, buf, len, flags);

    /// <summary>
    /// <c>send(2)</c> with <c>MSG_DONTWAIT</c> added to <paramref name="flags"/>. Returns the byte count, or -1 with
    /// errno set: read it with <see cref="Marshal.GetLastSystemError"/> before any other call.
    /// </summary>
    internal static nint SendNoWait(int sockfd, byte* buf, nuint len, int flags) =>
        s_rawDataPath
            ? SyscallNoWait(s_sysSendTo, sockfd, (nint)buf, (nint)len, flags | MSG_DONTWAIT, 0, 0)
            : SendThroughLibc(sockfd, buf, len, flags);

    // Out of line: an ordinary P/Invoke inlined into a caller gives that caller a transition frame
    // to set up on every call, taken or not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint ReceiveThroughLibc(int sockfd, byte* buf, nuint len, int flags) =>
        KeepErrno(recv(sockfd, buf, len, flags | MSG_DONTWAIT));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint SendThroughLibc(int sockfd, byte* buf, nuint len, int flags) =>
        KeepErrno(send(sockfd, buf, len, flags | MSG_DONTWAIT));

    // The libc bindings save errno for Marshal.GetLastPInvokeError; put it back where
    // GetLastSystemError reads it, as the raw path leaves it.
    private static nint KeepErrno(nint result)
    {
        Marshal.SetLastSystemError(Marshal.GetLastPInvokeError());
        return result;
    }
}
