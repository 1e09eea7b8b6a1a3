using System.Runtime.InteropServices;

namespace EventLoop.Samples.Cache;

/// <summary>
/// Fits the client limit to the descriptor limit the way Redis's <c>adjustOpenFilesLimit</c> does:
/// a client needs one descriptor, and <see cref="ReservedDescriptors"/> more are kept for the
/// server itself, so at the limit a client is refused with Redis's error instead of the listener
/// failing to accept with <c>EMFILE</c>.
/// </summary>
public static partial class ClientLimit
{
    /// <summary>Redis's default <c>maxclients</c>.</summary>
    public const int DefaultMaxClients = 10_000;

    /// <summary>Descriptors kept free beyond those already open: Redis's <c>CONFIG_MIN_RESERVED_FDS</c>.</summary>
    public const int ReservedDescriptors = 32;

    // RLIMIT_NOFILE on Linux (asm-generic/resource.h).
    private const int RlimitNoFile = 7;

    /// <summary>
    /// Raises the soft descriptor limit toward what <paramref name="maxClients"/> clients need
    /// (never above the hard limit), as redis-server does at start-up. Changes the whole process:
    /// call it from a server's entry point, not from a library or a test. Linux only; elsewhere it does nothing.
    /// </summary>
    /// <param name="maxClients">The clients wanted.</param>
    /// <returns>The soft limit in effect afterwards, or null when it could not be read.</returns>
    public static ulong? RaiseDescriptorLimit(int maxClients)
    {
        if (!OperatingSystem.IsLinux() || !TryRead(out RLimit limit))
        {
            return null;
        }

        ulong wanted = (ulong)maxClients + (ulong)CountOpenDescriptors() + ReservedDescriptors;
        if (limit.Current < wanted && limit.Current < limit.Maximum)
        {
            RLimit raised = limit with { Current = Math.Min(wanted, limit.Maximum) };
            if (SetRLimit(RlimitNoFile, in raised) == 0)
            {
                limit = raised;
            }
        }

        return limit.Current;
    }

    /// <summary>
    /// The clients this process can serve: <paramref name="maxClients"/>, lowered so that the
    /// descriptors already open, one per client and the reserve fit under the soft limit. At least 1.
    /// </summary>
    /// <param name="maxClients">The clients wanted; 0 means no limit of its own (the descriptor limit decides).</param>
    /// <returns>The effective limit; <paramref name="maxClients"/> unchanged when the descriptor limit cannot be read.</returns>
    public static int Fit(int maxClients)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxClients);
        if (!OperatingSystem.IsLinux() || !TryRead(out RLimit limit) || limit.Current >= int.MaxValue)
        {
            return maxClients;
        }

        long available = (long)limit.Current - CountOpenDescriptors() - ReservedDescriptors;
        int fitted = (int)Math.Clamp(available, 1, int.MaxValue);
        return maxClients == 0 ? fitted : Math.Min(maxClients, fitted);
    }

    /// <summary>Descriptors open in this process now (from <c>/proc/self/fd</c>; 0 when that cannot be read).</summary>
    /// <returns>The count.</returns>
    internal static int CountOpenDescriptors()
    {
        try
        {
            // Minus one: listing the directory opens it.
            return Math.Max(0, Directory.GetFiles("/proc/self/fd").Length - 1);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static bool TryRead(out RLimit limit)
    {
        try
        {
            return GetRLimit(RlimitNoFile, out limit) == 0;
        }
        catch (DllNotFoundException)
        {
            limit = default;
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit")]
    private static partial int SetRLimit(int resource, in RLimit limit);

    // struct rlimit: rlim_t is 64-bit on every 64-bit Linux ABI.
    [StructLayout(LayoutKind.Sequential)]
    private record struct RLimit(ulong Current, ulong Maximum);
}
