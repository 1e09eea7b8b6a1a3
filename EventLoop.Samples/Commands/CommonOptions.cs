using System.CommandLine;
using System.Net;

namespace EventLoop.Samples.Commands;

/// <summary>Option factories shared by the commands, with validation that produces one-line errors.</summary>
internal static class CommonOptions
{
    public static Option<int> Port(int defaultPort) => Ranged("--port", "TCP port to use (0 picks a free one)", defaultPort, 0, 65535);

    public static Option<string> Host(string description = "Address to bind or connect to") => new("--host")
    {
        Description = description,
        DefaultValueFactory = _ => "127.0.0.1",
        Validators =
        {
            result =>
            {
                string? value = result.GetValueOrDefault<string>();
                if (value is null || !IPAddress.TryParse(value, out _) && !string.Equals(value, "localhost", StringComparison.OrdinalIgnoreCase))
                {
                    result.AddError($"--host: '{value}' is not an IP address (or 'localhost')");
                }
            },
        },
    };

    /// <summary><c>--blocked-threshold &lt;ms&gt;</c>: the loop's blocked-loop watchdog (0: off).</summary>
    public static Option<int> BlockedThreshold() => Ranged(
        "--blocked-threshold", "Report on standard error a step that holds the loop longer than this many ms, while it holds it (0: off)", 0, 0, 3_600_000);

    /// <summary><c>--spin &lt;µs&gt;</c>: <see cref="LoopOptions.SpinBeforePoll"/> of the loops that serve.</summary>
    public static Option<int> Spin(int defaultMicroseconds) => Ranged(
        "--spin",
        "Microseconds a serving loop keeps polling, without sleeping, for ready sockets and forwarded work before it sleeps: what arrives meanwhile needs no kernel wake-up; costs CPU after each burst of work (0: sleep at once)",
        defaultMicroseconds,
        0,
        10_000);

    /// <summary><c>--timeout &lt;s&gt;</c>: how long a client command waits for any one reply (or connection) before it counts the request as failed.</summary>
    public static Option<int> Timeout(int defaultSeconds, string description = "Seconds to wait for a connection, and for each reply, before counting the request as failed") =>
        Ranged("--timeout", description, defaultSeconds, 1, 3600);

    /// <summary>
    /// The loop options a server command runs with: its name, the watchdog, and the spin before
    /// each sleep. The servers' greenlets do all their I/O on the loop (no HttpClient, no stream
    /// calls from other threads), so they do not carry themselves in their ExecutionContext
    /// (<see cref="LoopOptions.TrackGreenletsAcrossThreads"/>): each resumption is cheaper.
    /// </summary>
    public static LoopOptions ServerLoopOptions(string name, int blockedThresholdMs, Action<Exception>? unhandled = null, int spinMicroseconds = 0) => new()
    {
        Name = name,
        BlockedLoopThreshold = blockedThresholdMs > 0 ? TimeSpan.FromMilliseconds(blockedThresholdMs) : null,
        UnhandledException = unhandled,
        SpinBeforePoll = TimeSpan.FromMicroseconds(spinMicroseconds),
        TrackGreenletsAcrossThreads = false,
    };

    public static Option<bool> Quiet(string description) => new("--quiet", "-q") { Description = description };

    public static Option<int> Ranged(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        Validators =
        {
            result =>
            {
                if (TryGetValue(result, out int value) && (value < min || value > max))
                {
                    result.AddError($"{name}: {value} is out of range ({min}–{max})");
                }
            },
        },
    };

    /// <summary>
    /// The option's value, or false when it does not convert: validators run even then, and the
    /// conversion error is reported on its own.
    /// </summary>
    public static bool TryGetValue<T>(System.CommandLine.Parsing.OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>Resolves a validated --host value (an IP literal or "localhost") to an address.</summary>
    public static IPAddress ParseHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host);
}
