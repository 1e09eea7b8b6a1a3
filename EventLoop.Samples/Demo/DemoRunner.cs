using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using EventLoop.Net;
using EventLoop.Samples.Cache;
using EventLoop.Samples.Echo;
using EventLoop.Samples.Http;
using EventLoop.Samples.Interop;
using EventLoop.Samples.Selectors;
using EventLoop.Samples.SyncVsAsync;

namespace EventLoop.Samples.Demo;

/// <summary>
/// The main job: every sample, on loopback with ports chosen by the kernel, each part a function that
/// checks its own outcome. All parts run on the caller's loop, one after another.
/// </summary>
public static class DemoRunner
{
    private static readonly IPEndPoint s_anyLoopbackPort = new(IPAddress.Loopback, 0);

    /// <summary>Runs every part and returns one result per part, in order. Loop thread, inside a greenlet.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the parts narrate.</param>
    /// <param name="settings">Sizes; the classic ones when null.</param>
    /// <returns>The results.</returns>
    public static async Task<IReadOnlyList<DemoResult>> RunAllAsync(Loop loop, TextWriter output, DemoSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(output);
        settings ??= new DemoSettings();
        var results = new List<DemoResult>();
        foreach ((string title, Func<Task<DemoResult>> part) in new (string, Func<Task<DemoResult>>)[]
        {
            ("sync-vs-async: blocking sleeps, then greenlets", () => RunSyncVsAsyncAsync(loop, output, settings.TaskDuration)),
            ("fetch: concurrent GETs against the loop's own HTTP server", () => RunFetchAsync(loop, output)),
            ("fetch URL...: the command as a user types it, against the demo's HTTP server", () => RunFetchCommandAsync(loop, output)),
            ("echo: StreamServer and the echo client in one process", () => RunEchoAsync(loop, output, settings.EchoRequests, settings.EchoConnections)),
            ("selectors-echo: per-descriptor callbacks", () => RunSelectorsAsync(loop, output, settings.SelectorsClients, settings.SelectorsMessages)),
            ("cache: SET / GET / PEXPIRE over RESP", () => RunCacheAsync(loop, output, settings.CacheTtl)),
        })
        {
            output.WriteLine();
            output.WriteLine($"== {title}");
            results.Add(await BoundedAsync(loop, title[..title.IndexOf(':', StringComparison.Ordinal)], part, settings.PartTimeout));
        }

        output.WriteLine();
        output.Write(DemoSummary.Format(results));
        return results;
    }

    /// <summary>gevent's sync-vs-async example. Succeeds when all nineteen tasks ran; the times are shown, not judged.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the task lines go.</param>
    /// <param name="taskDuration">Each task's sleep.</param>
    /// <returns>The part's result.</returns>
    public static Task<DemoResult> RunSyncVsAsyncAsync(Loop loop, TextWriter output, TimeSpan taskDuration) =>
        MeasureAsync("sync-vs-async", async () =>
        {
            var counting = new LineCountingWriter(output, "done");
            SyncVsAsyncResult result = await SyncVsAsyncDemo.RunAsync(loop, counting, taskDuration);
            string detail = Invariant($"9 blocking tasks {result.Synchronous.TotalSeconds:F2} s, 10 greenlets {result.Asynchronous.TotalSeconds:F2} s");
            return (counting.Count == 19, counting.Count == 19 ? detail : $"{counting.Count} of 19 tasks finished");
        });

    /// <summary>Starts the mini HTTP server on a free loopback port and fetches its three pages concurrently.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the GET lines go.</param>
    /// <returns>The part's result: every page received with its exact size.</returns>
    public static Task<DemoResult> RunFetchAsync(Loop loop, TextWriter output) =>
        MeasureAsync("fetch", async () =>
        {
            MiniHttpSite site = MiniHttpSite.CreateDefault();
            await using var server = new MiniHttpServer(loop, s_anyLoopbackPort, site);
            server.Start();
            Uri[] urls = site.Paths.Select(path => new Uri(server.BaseUri, path)).ToArray();
            IReadOnlyList<FetchResult> fetched = await Fetcher.FetchAllAsync(loop, urls, output, TimeSpan.FromSeconds(10));
            await server.StopAsync(TimeSpan.FromSeconds(1));
            int good = fetched.Count(r => r.Succeeded && site.TryGetPage(r.Url.AbsolutePath, out byte[] body) && body.Length == r.Bytes);
            long bytes = fetched.Sum(r => (long)r.Bytes);
            string? error = fetched.FirstOrDefault(r => !r.Succeeded)?.Error;
            return (good == urls.Length, good == urls.Length
                ? $"{urls.Length} pages, {bytes} bytes"
                : $"{good} of {urls.Length} pages correct{(error is null ? string.Empty : ": " + error)}");
        });

    /// <summary>
    /// Starts the mini HTTP server on this loop and runs the command line <c>fetch URL…</c> against
    /// it, as a user would type it: the arguments go through the parser and the command runs its
    /// own loop, on another thread, while this loop serves. One URL names the host
    /// <c>localhost</c>, so the connection is resolved through <c>ConnectAsync(DnsEndPoint)</c>.
    /// </summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the command's output is copied once it has exited.</param>
    /// <returns>The part's result: exit code 0, nothing on standard error, and every page received with its exact size.</returns>
    public static Task<DemoResult> RunFetchCommandAsync(Loop loop, TextWriter output) =>
        MeasureAsync("fetch URL...", async () =>
        {
            MiniHttpSite site = MiniHttpSite.CreateDefault();
            await using var server = new MiniHttpServer(loop, s_anyLoopbackPort, site);
            server.Start();
            int port = ((IPEndPoint)server.LocalEndPoint).Port;
            string[] urls = [.. site.Paths.Select(path => new Uri(server.BaseUri, path).ToString()), Invariant($"http://localhost:{port}/")];
            output.WriteLine($"$ EventLoop.Samples fetch {string.Join(' ', urls)}");
            var commandOutput = new StringWriter();
            var commandError = new StringWriter();

            // The command blocks its thread running its own loop; this loop must keep serving meanwhile.
            int exit = await Task.Factory.StartNew(
                () => CommandLineApp.Run(["fetch", .. urls], commandOutput, commandError),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            output.Write(commandOutput.ToString());
            output.Write(commandError.ToString());

            string printed = commandOutput.ToString();
            string[] missing = [.. urls.Where(url => !site.TryGetPage(new Uri(url).AbsolutePath, out byte[] body)
                || !printed.Contains($"GET: {url}", StringComparison.Ordinal)
                || !printed.Contains($"{body.Length} bytes received from {url}", StringComparison.Ordinal))];
            bool ok = exit == 0 && missing.Length == 0 && commandError.ToString().Length == 0;
            return (ok, ok
                ? $"exit 0, {urls.Length} URLs fetched (one by host name)"
                : $"exit {exit}; " + (missing.Length > 0 ? $"no correct reply for {string.Join(' ', missing)}" : $"stderr: {commandError.ToString().Trim()}"));
        });

    /// <summary>Runs the echo server and the echo client on the same loop.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the statistics line goes.</param>
    /// <param name="requests">Echo requests.</param>
    /// <param name="connections">Connections, lowered to fit the descriptor limit (two descriptors each: both ends are in this process).</param>
    /// <returns>The part's result: every echo matched.</returns>
    public static Task<DemoResult> RunEchoAsync(Loop loop, TextWriter output, int requests, int connections) =>
        MeasureAsync("echo", async () =>
        {
            ulong? limit = Libc.TryGetOpenFileLimit(out ulong soft, out _) ? soft : null;
            int fitting = ConnectionPlan.DefaultConnections(requests, limit, descriptorsPerConnection: 2);
            int used = Math.Max(1, Math.Min(connections, fitting));
            await using StreamServer server = EchoServer.Create(loop, s_anyLoopbackPort, log: null);
            server.Start();
            output.WriteLine($"echo server on {server.LocalEndPoint}; {requests} requests over {used} connections");
            EchoStats stats = await EchoClient.RunAsync(loop, new EchoClientOptions
            {
                EndPoint = server.LocalEndPoint,
                Requests = requests,
                Connections = used,
                Quiet = true,
            }, output);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            output.WriteLine(stats.ToString());
            return (stats.AllSucceeded, stats.AllSucceeded
                ? Invariant($"{stats.Requests} echoes over {stats.Connections} connections, p50 {stats.P50.TotalMilliseconds:F2} ms, p99 {stats.P99.TotalMilliseconds:F2} ms")
                : $"{stats.Errors} of {stats.Requests} failed: {stats.FirstError}");
        });

    /// <summary>Runs the selectors echo server with a few clients (written on EventLoop.Net) on the same loop.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the server's accepted/echoing/closing lines go.</param>
    /// <param name="clients">Concurrent clients.</param>
    /// <param name="messages">Messages per client.</param>
    /// <returns>The part's result: every echo matched and every connection was closed by the server.</returns>
    public static Task<DemoResult> RunSelectorsAsync(Loop loop, TextWriter output, int clients, int messages) =>
        MeasureAsync("selectors-echo", async () =>
        {
            using var server = new SelectorsEchoServer(loop, s_anyLoopbackPort, output);
            server.Start();
            var greenlets = new Greenlet<bool>[clients];
            for (int c = 0; c < clients; c++)
            {
                int client = c;
                greenlets[c] = loop.Spawn(() => SelectorsClientAsync(loop, server.LocalEndPoint, client, messages));
            }

            await loop.JoinAllAsync(greenlets);
            int good = greenlets.Count(g => g.Succeeded && g.Value);
            bool ok = good == clients && server.ConnectionCount == 0 && server.AcceptedCount == clients;
            return (ok, ok
                ? $"{clients} clients x {messages} messages, {server.BytesEchoed} bytes echoed"
                : $"{good} of {clients} clients got their echoes; {server.ConnectionCount} connections left open"
                    + (greenlets.FirstOrDefault(g => !g.Succeeded)?.Exception is Exception ex ? ": " + ex.Message : string.Empty));
        });

    /// <summary>
    /// Starts the cache server and, through <see cref="RespClient"/>: SET, GET, PEXPIRE, PTTL, a wait
    /// on the loop, GET of the expired key, and a key nobody reads again removed by active expiry.
    /// </summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="output">Where the exchange is narrated.</param>
    /// <param name="ttl">The PEXPIRE time.</param>
    /// <returns>The part's result: every reply as Redis would give it.</returns>
    public static Task<DemoResult> RunCacheAsync(Loop loop, TextWriter output, TimeSpan ttl) =>
        MeasureAsync("cache", async () =>
        {
            await using var server = new CacheServer(loop, s_anyLoopbackPort);
            server.Start();
            output.WriteLine($"cache server on {server.LocalEndPoint}");
            string ttlMs = ((long)Math.Max(1, ttl.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
            var failures = new List<string>();
            using (RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint))
            {
                async Task Expect(string expected, params string[] command)
                {
                    RespValue reply = await client.CommandAsync(command);
                    output.WriteLine($"> {string.Join(' ', command)}  ->  {reply}");
                    if (reply.ToString() != expected)
                    {
                        failures.Add($"{command[0]} gave {reply}, expected {expected}");
                    }
                }

                await Expect("OK", "SET", "demo:greeting", "hello");
                await Expect("\"hello\"", "GET", "demo:greeting");
                TimeSpan expireSent = loop.Now;
                await Expect("(integer) 1", "PEXPIRE", "demo:greeting", ttlMs);
                await Expect("OK", "SET", "demo:forgotten", "unread", "PX", ttlMs);
                RespValue pttl = await client.CommandAsync("PTTL", "demo:greeting");
                output.WriteLine($"> PTTL demo:greeting  ->  {pttl}");

                // What is left of the TTL, or -2 (no such key) when the TTL had passed by the time
                // the reply came: the server shares this loop's clock, so the answer follows from it.
                bool expiredByNow = loop.Now - expireSent >= ttl;
                bool ttlLeft = pttl.Kind == RespValueKind.Integer && pttl.Integer > 0 && pttl.Integer <= (long)ttl.TotalMilliseconds;
                bool goneInTime = pttl.Kind == RespValueKind.Integer && pttl.Integer == -2 && expiredByNow;
                if (!ttlLeft && !goneInTime)
                {
                    failures.Add($"PTTL gave {pttl}");
                }

                // Three expiry ticks past the deadline: the timer must have swept the unread key by then.
                TimeSpan wait = ttl + TimeSpan.FromMilliseconds(300);
                output.WriteLine(Invariant($"(sleeping {wait.TotalMilliseconds:F0} ms on the loop)"));
                await loop.Sleep(wait);
                int keysAfterWait = server.Store.Count;
                await Expect("(nil)", "GET", "demo:greeting");
                await Expect("(integer) 0", "EXISTS", "demo:forgotten");
                if (keysAfterWait != 0)
                {
                    failures.Add($"{keysAfterWait} keys left after the expiry timer ran");
                }
            }

            await server.StopAsync(TimeSpan.FromSeconds(1));
            return (failures.Count == 0, failures.Count == 0
                ? $"SET/GET/PEXPIRE round trip; {server.ActivelyExpired} key(s) reclaimed by the 100 ms expiry timer"
                : string.Join("; ", failures));
        });

    private static async Task<bool> SelectorsClientAsync(Loop loop, EndPoint endpoint, int client, int messages)
    {
        using StreamConnection connection = await loop.ConnectAsync(endpoint);
        bool allMatched = true;
        for (int m = 0; m < messages; m++)
        {
            byte[] message = Encoding.UTF8.GetBytes($"message {m} from client {client}");
            await connection.SendAsync(message);
            byte[] echo = new byte[message.Length];
            int filled = 0;
            while (filled < echo.Length)
            {
                int n = await connection.ReceiveAsync(echo.AsMemory(filled));
                if (n == 0)
                {
                    return false;
                }

                filled += n;
            }

            allMatched &= echo.AsSpan().SequenceEqual(message);
        }

        // Half-close; the server sees end of stream, closes, and we see ours.
        connection.ShutdownSend();
        byte[] rest = new byte[16];
        return allMatched && await connection.ReceiveAsync(rest) == 0;
    }

    private static async Task<DemoResult> MeasureAsync(string part, Func<Task<(bool Succeeded, string Detail)>> body)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            (bool succeeded, string detail) = await body();
            return new DemoResult(part, succeeded, detail, Stopwatch.GetElapsedTime(start));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new DemoResult(part, false, $"{ex.GetType().Name}: {ex.Message}", Stopwatch.GetElapsedTime(start));
        }
    }

    private static async Task<DemoResult> BoundedAsync(Loop loop, string part, Func<Task<DemoResult>> run, TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        Greenlet<DemoResult> greenlet = loop.Spawn(run);
        greenlet.Name = part;
        await loop.JoinAllAsync([greenlet], timeout);
        if (greenlet.IsCompleted && greenlet.Succeeded)
        {
            return greenlet.Value;
        }

        await greenlet.KillAsync();
        string why = greenlet.Exception is { } ex and not OperationCanceledException
            ? $"{ex.GetType().Name}: {ex.Message}"
            : Invariant($"timed out after {timeout.TotalSeconds:F0} s");
        return new DemoResult(part, false, why, Stopwatch.GetElapsedTime(start));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
