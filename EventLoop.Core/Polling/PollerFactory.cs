using System.Runtime.InteropServices;

namespace EventLoop.Polling;

/// <summary>Chooses and creates the readiness back end and its matching waker.</summary>
internal static class PollerFactory
{
    /// <summary>Overrides <see cref="PollerKind.Auto"/>: <c>poll</c> or <c>epoll</c>, case-insensitive.</summary>
    internal const string EnvironmentVariable = "EVENTLOOP_POLLER";

    /// <summary>Creates the back end <paramref name="kind"/> resolves to (see <see cref="Resolve(PollerKind)"/>).</summary>
    internal static IPoller Create(PollerKind kind) => Resolve(kind) switch
    {
        PollerKind.Epoll => new EpollPoller(),
        _ => new PollPoller(),
    };

    /// <summary>The waker that pairs with an already resolved back end: eventfd for epoll, a pipe for poll.</summary>
    /// <exception cref="ArgumentException"><paramref name="resolvedKind"/> is <see cref="PollerKind.Auto"/> or undefined.</exception>
    internal static IWaker CreateWaker(PollerKind resolvedKind) => resolvedKind switch
    {
        PollerKind.Epoll => new EventFdWaker(),
        PollerKind.Poll => new PipeWaker(),
        _ => throw new ArgumentException(
            $"Expected a resolved poller kind (Epoll or Poll), got {resolvedKind}; call Resolve first.", nameof(resolvedKind)),
    };

    /// <summary>
    /// The concrete back end for <paramref name="requested"/> on this machine. Auto honours
    /// <see cref="EnvironmentVariable"/>, else picks epoll on Linux and poll(2) on other Unix systems.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Windows, or epoll requested off Linux.</exception>
    /// <exception cref="ArgumentException">The environment variable has an unknown value.</exception>
    internal static PollerKind Resolve(PollerKind requested) =>
        Resolve(requested, Environment.GetEnvironmentVariable(EnvironmentVariable), CurrentPlatform());

    /// <summary><see cref="Resolve(PollerKind)"/> with the environment and the OS passed in, for tests.</summary>
    internal static PollerKind Resolve(PollerKind requested, string? environmentValue, OSPlatform platform)
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

        return kind;
    }

    /// <summary>
    /// Parses a value of <see cref="EnvironmentVariable"/>: null or blank means no override.
    /// </summary>
    /// <exception cref="ArgumentException">Any other value than <c>poll</c> or <c>epoll</c>.</exception>
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

        throw new ArgumentException(
            $"Environment variable {EnvironmentVariable} has the value '{value}'; expected 'poll' or 'epoll' (or unset).",
            nameof(value));
    }

    private static OSPlatform CurrentPlatform() =>
        OperatingSystem.IsLinux() ? OSPlatform.Linux
        : OperatingSystem.IsWindows() ? OSPlatform.Windows
        : OperatingSystem.IsMacOS() ? OSPlatform.OSX
        : OperatingSystem.IsFreeBSD() ? OSPlatform.FreeBSD
        : OSPlatform.Create("UNIX");
}
