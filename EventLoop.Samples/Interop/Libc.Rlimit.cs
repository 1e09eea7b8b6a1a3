using System.Runtime.InteropServices;

namespace EventLoop.Samples.Interop;

/// <summary>getrlimit(2), so the echo client can size its connection count to the descriptor limit.</summary>
internal static partial class Libc
{
    // RLIMIT_NOFILE is 7 on every Linux architecture .NET runs on (asm-generic/resource.h; MIPS and
    // SPARC differ but are not .NET targets). macOS/BSD use 8.
    private const int RlimitNoFileLinux = 7;
    private const int RlimitNoFileBsd = 8;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    /// <summary>Reads RLIMIT_NOFILE; false on Windows or when the call fails.</summary>
    /// <param name="soft">The soft limit (what open() is held to).</param>
    /// <param name="hard">The hard limit.</param>
    /// <returns>True when the limits were read.</returns>
    public static bool TryGetOpenFileLimit(out ulong soft, out ulong hard)
    {
        soft = hard = 0;
        int resource;
        if (OperatingSystem.IsLinux())
        {
            resource = RlimitNoFileLinux;
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            resource = RlimitNoFileBsd;
        }
        else
        {
            return false;
        }

        try
        {
            if (GetRLimit(resource, out RLimit limit) != 0)
            {
                return false;
            }

            soft = limit.Current;
            hard = limit.Maximum;
            return true;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }
}
