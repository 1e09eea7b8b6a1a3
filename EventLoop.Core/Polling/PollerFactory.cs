using System.Runtime.InteropServices;

namespace EventLoop.Polling;

/// <summary>Chooses and creates the readiness back end and its matching waker.</summary>
internal static class PollerFactory
{
    /// <summary>Overrides <see cref="PollerKind.Auto"/>: <c>poll</c>, <c>epoll</c> or <c>io_uring</c>, case-insensitive.</summary>
    internal const string EnvironmentVariable = "EVENTLOOP_POLLER";

    /// <summary>Creates the back end <paramref name="kind"/> resolves to (see <see cref="Resolve(PollerKind)"/>).</summary>
    internal static IPoller Create(PollerKind kind) => Resolve(kind) switch
    {
        PollerKind.Epoll => new EpollPoller(),
        PollerKind.IoUring => new IoUringPoller(),
        _ => new PollPoller(),
    };

    /// <summary>
    /// The waker that pairs with an already resolved back end: eventfd for epoll and io_uring
    /// (polled through the ring like any descriptor), a pipe for poll.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="resolvedKind"/> is <see cref="PollerKind.Auto"/> or undefined.</exception>
    internal static IWaker CreateWaker(PollerKind resolvedKind) => resolvedKind switch
    {
        PollerKind.Epoll or PollerKind.IoUring => new EventFdWaker(),
        PollerKind.Poll => new PipeWaker(),
        _ => throw new ArgumentException(
            $"Expected a resolved poller kind (Epoll, Poll or IoUring), got {resolvedKind}; call Resolve first.", nameof(resolvedKind)),
    };

    /// <summary>
    /// The concrete back end for <paramref name="requested"/> on this machine. Auto honours
    /// <see cref="EnvironmentVariable"/>, else picks epoll on Linux and poll(2) on other Unix systems
    /// (never io_uring, which is only used when asked for).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">
    /// Windows, epoll or io_uring requested off Linux, or io_uring requested where it does not work
    /// (the message names why: the sysctl, the errno of io_uring_setup, or a missing opcode).
    /// </exception>
    /// <exception cref="ArgumentException">The environment variable has an unknown value.</exception>
    internal static PollerKind Resolve(PollerKind requested) =>
        Resolve(requested, Environment.GetEnvironmentVariable(EnvironmentVariable), CurrentPlatform());

    /// <summary><see cref="Resolve(PollerKind)"/> with the environment and the OS passed in, for tests.</summary>
    internal static PollerKind Resolve(PollerKind requested, string? environmentValue, OSPlatform platform) =>
        Resolve(requested, environmentValue, platform, static () => IoUringProbe.Current);

    /// <summary>
    /// <see cref="Resolve(PollerKind)"/> with the environment, the OS and the io_uring probe passed
    /// in, for tests. <paramref name="ioUring"/> is called only when io_uring is requested.
    /// </summary>
    internal static PollerKind Resolve(PollerKind requested, string? environmentValue, OSPlatform platform, Func<IoUringSupport> ioUring)
    {
        if (platform == OSPlatform.Windows)
        {
            throw new PlatformNotSupportedException(
                "EventLoop needs a Unix readiness API (epoll or poll(2)); Windows is not supported.");
        }

        if (!Enum.IsDefined(requested))
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "Unknown poller kind.");
        }

        PollerKind kind = requested == PollerKind.Auto
            ? ParseOverride(environmentValue) ?? (platform == OSPlatform.Linux ? PollerKind.Epoll : PollerKind.Poll)
            : requested;

        if (kind == PollerKind.Epoll && platform != OSPlatform.Linux)
        {
            throw new PlatformNotSupportedException(
                $"The epoll back end exists only on Linux; this is {platform}. Use PollerKind.Poll or Auto.");
        }

        if (kind == PollerKind.IoUring)
        {
            IoUringSupport support = platform == OSPlatform.Linux
                ? ioUring()
                : IoUringSupport.Unavailable($"io_uring exists only on Linux; this is {platform}");
            if (!support.IsAvailable)
            {
                throw new PlatformNotSupportedException(
                    $"The io_uring back end is unavailable: {support.Reason}. Use PollerKind.Epoll or Auto (unset {EnvironmentVariable}, or set it to 'epoll').");
            }
        }

        return kind;
    }

    /// <summary>
    /// Parses a value of <see cref="EnvironmentVariable"/>: null or blank means no override.
    /// </summary>
    /// <exception cref="ArgumentException">Any other value than <c>poll</c>, <c>epoll</c> or <c>io_uring</c>.</exception>
    internal static PollerKind? ParseOverride(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string trimmed = value.Trim();
        if (trimmed.Equals("epoll", StringComparison.OrdinalIgnoreCase))
        {
            return PollerKind.Epoll;
        }

        if (trimmed.Equals("poll", StringComparison.OrdinalIgnoreCase))
        {
            return PollerKind.Poll;
        }

        if (trimmed.Equals("io_uring", StringComparison.OrdinalIgnoreCase))
        {
            return PollerKind.IoUring;
        }

        throw new ArgumentException(
            $"Environment variable {EnvironmentVariable} has the value '{value}'; expected 'poll', 'epoll' or 'io_uring' (or unset).",
            nameof(value));
    }

    private static OSPlatform CurrentPlatform() =>
        OperatingSystem.IsLinux() ? OSPlatform.Linux
        : OperatingSystem.IsWindows() ? OSPlatform.Windows
        : OperatingSystem.IsMacOS() ? OSPlatform.OSX
        : OperatingSystem.IsFreeBSD() ? OSPlatform.FreeBSD
        : OSPlatform.Create("UNIX");
}
