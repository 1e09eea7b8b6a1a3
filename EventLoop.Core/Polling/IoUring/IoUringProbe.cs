using System.Runtime.InteropServices;
using static EventLoop.Interop.Libc;
using static EventLoop.Polling.IoUringInterop;

namespace EventLoop.Polling;

/// <summary>Whether this process can use the io_uring back end, and if not, why.</summary>
/// <param name="IsAvailable">True when a ring can be set up with every feature and opcode the poller uses.</param>
/// <param name="Reason">Why it cannot, naming the cause (a sysctl, an errno, a missing opcode); null when available.</param>
internal readonly record struct IoUringSupport(bool IsAvailable, string? Reason)
{
    internal static IoUringSupport Available => new(true, null);

    internal static IoUringSupport Unavailable(string reason) => new(false, reason);
}

/// <summary>
/// Finds out once per process whether io_uring works here: the sysctl, a real io_uring_setup
/// (which is what a seccomp policy or an old kernel refuses), the features the poller relies
/// on, and IORING_REGISTER_PROBE for its opcodes.
/// </summary>
internal static unsafe class IoUringProbe
{
    /// <summary>The sysctl that disables io_uring: 0 allowed, 1 only for io_uring_group, 2 for nobody.</summary>
    internal const string DisabledSysctl = "/proc/sys/kernel/io_uring_disabled";

    // The opcodes the poller submits; all date from 5.1 (POLL_ADD multishot from 5.13).
    private static readonly (byte Op, string Name)[] s_requiredOps =
    [
        (IORING_OP_NOP, "IORING_OP_NOP"),
        (IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"),
        (IORING_OP_POLL_REMOVE, "IORING_OP_POLL_REMOVE"),
        (IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"),
    ];

    private static readonly Lazy<IoUringSupport> s_current = new(Detect);

    /// <summary>The result for this process, computed on first use. Any thread.</summary>
    internal static IoUringSupport Current => s_current.Value;

    private static IoUringSupport Detect()
    {
        if (!OperatingSystem.IsLinux())
        {
            return IoUringSupport.Unavailable("io_uring exists only on Linux");
        }

        string? disabled = ReadDisabledSysctl();
        if (disabled == "2")
        {
            return FromSetupError(EPERM, disabled);
        }

        Params parameters = default;
        int fd = Setup(4, &parameters);
        if (fd < 0)
        {
            return FromSetupError(Marshal.GetLastPInvokeError(), disabled);
        }

        try
        {
            // 256: the probe's opcode field is a byte, so this covers every opcode there can be.
            const int OpCount = 256;
            int size = sizeof(ProbeHeader) + (OpCount * sizeof(ProbeOp));
            byte* probe = stackalloc byte[size];
            new Span<byte>(probe, size).Clear();
            if (Register(fd, IORING_REGISTER_PROBE, probe, OpCount) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return IoUringSupport.Unavailable(
                    $"io_uring_register(IORING_REGISTER_PROBE) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); kernel older than 5.6");
            }

            var header = (ProbeHeader*)probe;
            var ops = (ProbeOp*)(probe + sizeof(ProbeHeader));
            int length = header->OpsLength;
            return FromCapabilities(parameters.Features, op => op < length && (ops[op].Flags & IO_URING_OP_SUPPORTED) != 0);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Explains a failed io_uring_setup; <paramref name="disabledSysctl"/> is the sysctl's value, if readable.</summary>
    internal static IoUringSupport FromSetupError(int errno, string? disabledSysctl)
    {
        string call = $"io_uring_setup failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        if (errno == ENOSYS)
        {
            return IoUringSupport.Unavailable($"{call}: the kernel has no io_uring (older than 5.1 or built without CONFIG_IO_URING), or a seccomp policy hides it");
        }

        if (errno == EPERM)
        {
            string why = disabledSysctl is "1" or "2"
                ? $"{DisabledSysctl} is {disabledSysctl}"
                : "a seccomp policy or a security module refused it";
            return IoUringSupport.Unavailable($"{call}: io_uring is disabled here ({why})");
        }

        return IoUringSupport.Unavailable(call);
    }

    /// <summary>
    /// Checks the ring features (<paramref name="features"/>, io_uring_params.features) and the
    /// opcodes the poller needs.
    /// </summary>
    internal static IoUringSupport FromCapabilities(uint features, Func<byte, bool> isSupported)
    {
        var missing = new List<string>();
        if ((features & IORING_FEAT_EXT_ARG) == 0)
        {
            missing.Add("IORING_FEAT_EXT_ARG (timed waits, 5.11)");
        }

        if ((features & IORING_FEAT_NODROP) == 0)
        {
            missing.Add("IORING_FEAT_NODROP (5.5)");
        }

        foreach ((byte op, string name) in s_requiredOps)
        {
            if (!isSupported(op))
            {
                missing.Add(name);
            }
        }

        return missing.Count == 0
            ? IoUringSupport.Available
            : IoUringSupport.Unavailable($"the kernel's io_uring lacks {string.Join(", ", missing)}");
    }

    private static string? ReadDisabledSysctl()
    {
        try
        {
            return File.ReadAllText(DisabledSysctl).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
