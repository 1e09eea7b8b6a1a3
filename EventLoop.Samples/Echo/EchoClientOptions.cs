using System.Net;

namespace EventLoop.Samples.Echo;

/// <summary>What the echo client does.</summary>
public sealed record EchoClientOptions
{
    /// <summary>The server.</summary>
    public required EndPoint EndPoint { get; init; }

    /// <summary>Requests to send in total (20,000 in the classic benchmark).</summary>
    public int Requests { get; init; } = 20_000;

    /// <summary>Connections to spread them over; each serves its share one request after another.</summary>
    public int Connections { get; init; } = 1;

    /// <summary>The message each request sends and expects back.</summary>
    public string Message { get; init; } = "hello girl";

    /// <summary>False prints <c>Received[i]:'…'</c> for every request.</summary>
    public bool Quiet { get; init; } = true;

    /// <summary>
    /// Bound on each wait (loop time): connecting, and each request from its send to the last byte of
    /// its echo. A request not answered by then fails ("no reply within …"), with the rest of its
    /// connection's share; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>The default <see cref="Timeout"/>: 10 s, long enough for a loaded server, short enough for a person waiting.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(10);
}
