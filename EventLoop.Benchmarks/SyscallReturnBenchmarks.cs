using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// What a return costs right after a system call: the same cheap system call (<c>getppid</c>,
/// through <c>syscall(2)</c> bound as the data path binds its receive and send) made one, three or
/// five non-inlined frames below the benchmark method, beside the same frames around no system
/// call. Returning into a frame that was made before the system call is a mispredicted branch
/// when the return predictor does not survive the kernel, so each frame between a socket call and
/// the code that goes on with its result costs that much on every message.
/// Run: <c>dotnet run -c Release --project EventLoop.Benchmarks -- --filter *SyscallReturnBenchmarks*</c>.
/// </summary>
public partial class SyscallReturnBenchmarks
{
    private static nint s_number;

    /// <summary>Picks getppid's number for the machine: 110 on x86-64, 173 on arm64.</summary>
    [GlobalSetup]
    public void Setup() => s_number = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 173 : 110;

    /// <summary>The system call one frame down.</summary>
    /// <returns>The parent's id.</returns>
    [Benchmark(Baseline = true)]
    public nint SystemCallOneFrameDown() => One();

    /// <summary>The system call three frames down.</summary>
    /// <returns>The parent's id, plus two.</returns>
    [Benchmark]
    public nint SystemCallThreeFramesDown() => Three();

    /// <summary>The system call five frames down.</summary>
    /// <returns>The parent's id, plus four.</returns>
    [Benchmark]
    public nint SystemCallFiveFramesDown() => Five();

    /// <summary>Five frames, no system call: what the frames cost when the return predictor is intact.</summary>
    /// <returns>A constant, plus four.</returns>
    [Benchmark]
    public nint FiveFramesNoSystemCall() => NoCallFive();

    [LibraryImport("libc", EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint One() => Syscall(s_number, 0, 0, 0, 0, 0, 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Two() => One() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Three() => Two() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Four() => Three() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Five() => Four() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint NoCallOne() => s_number;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint NoCallTwo() => NoCallOne() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint NoCallThree() => NoCallTwo() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint NoCallFour() => NoCallThree() + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint NoCallFive() => NoCallFour() + 1;
}
