using System.Runtime.InteropServices;

namespace EventLoop.Interop;

// CPU affinity of the calling thread (Linux): pid 0 in sched_setaffinity/sched_getaffinity means
// the calling thread, not the process. The mask is a bit array of CPU numbers in 64-bit words.
internal static unsafe partial class Libc
{
    // 1024 CPUs: glibc's CPU_SETSIZE; the kernel accepts any mask at least as long as its own.
    private const int CpuMaskWords = 1024 / 64;

    [LibraryImport(LibraryName, EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport(LibraryName, EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int pid, nuint size, ulong* mask);

    /// <summary>The CPUs the calling thread may run on, in increasing order; empty when unknown.</summary>
    internal static int[] GetAllowedCpus()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        ulong* mask = stackalloc ulong[CpuMaskWords];
        new Span<ulong>(mask, CpuMaskWords).Clear();
        if (SchedGetAffinity(0, CpuMaskWords * sizeof(ulong), mask) != 0)
        {
            return [];
        }

        var cpus = new List<int>();
        for (int cpu = 0; cpu < CpuMaskWords * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                cpus.Add(cpu);
            }
        }

        return [.. cpus];
    }

    /// <summary>Binds the calling thread to <paramref name="cpu"/>; returns errno, 0 on success.</summary>
    internal static int PinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 95; // EOPNOTSUPP
        }

        ulong* mask = stackalloc ulong[CpuMaskWords];
        new Span<ulong>(mask, CpuMaskWords).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return SchedSetAffinity(0, CpuMaskWords * sizeof(ulong), mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
