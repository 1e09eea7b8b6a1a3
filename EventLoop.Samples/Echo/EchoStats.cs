using System.Globalization;

namespace EventLoop.Samples.Echo;

/// <summary>What an echo-client run measured.</summary>
/// <param name="Requests">Requests attempted.</param>
/// <param name="Succeeded">Requests whose echo matched what was sent.</param>
/// <param name="Errors">Requests that failed: connect or I/O error, early close, or a mismatched echo.</param>
/// <param name="Connections">Connections the requests were spread over.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="P50">Median request latency (send to full echo).</param>
/// <param name="P99">99th-percentile request latency.</param>
/// <param name="FirstError">The first failure's description, if any.</param>
public sealed record EchoStats(
    int Requests,
    int Succeeded,
    int Errors,
    int Connections,
    TimeSpan Elapsed,
    TimeSpan P50,
    TimeSpan P99,
    string? FirstError)
{
    /// <summary>True when every request got its exact echo back.</summary>
    public bool AllSucceeded => Errors == 0 && Succeeded == Requests;

    /// <summary>One line: requests, errors, elapsed, p50/p99.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"requests: {Requests}, errors: {Errors}, connections: {Connections}, elapsed: {Elapsed.TotalSeconds:F3} s, p50: {P50.TotalMilliseconds:F3} ms, p99: {P99.TotalMilliseconds:F3} ms");
}
