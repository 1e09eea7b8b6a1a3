namespace EventLoop.Samples.Demo;

/// <summary>Sizes of the demo's parts; the defaults are the classic ones, tests pass small ones.</summary>
public sealed record DemoSettings
{
    /// <summary>Each sync-vs-async task's sleep (gevent's example: 0.5 s).</summary>
    public TimeSpan TaskDuration { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Echo requests (the classic benchmark: 20,000).</summary>
    public int EchoRequests { get; init; } = 20_000;

    /// <summary>
    /// Echo connections (500: well under the usual 1024 descriptor limit even though server and
    /// client share the process, yet enough concurrency to exercise the poller); lowered further
    /// when RLIMIT_NOFILE is smaller.
    /// </summary>
    public int EchoConnections { get; init; } = 500;

    /// <summary>Clients of the selectors echo server.</summary>
    public int SelectorsClients { get; init; } = 3;

    /// <summary>Messages each selectors client sends.</summary>
    public int SelectorsMessages { get; init; } = 2;

    /// <summary>The TTL set with PEXPIRE in the cache part.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bound on each part, so a hang shows up as a failed row instead of a stuck demo.</summary>
    public TimeSpan PartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
