using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Samples.Cache;

/// <summary>
/// The Redis-protocol cache on the loop: a <see cref="StreamServer"/> with one greenlet per connection
/// driving a <see cref="RespConnectionDriver"/>, a 100 ms cron for active expiry (Redis's
/// <c>serverCron</c> calling <c>activeExpireCycle</c>) and a fast expiry cycle before each poll
/// (Redis's <c>beforeSleep</c>).
/// </summary>
/// <remarks>
/// <para>
/// A connection waiting for a request holds no buffer: the handler waits for readability with an
/// empty receive, and the driver rents its buffers only once bytes are there, returning them when
/// the replies are sent. At <see cref="MaxClients"/> a new client is accepted, told
/// <c>-ERR max number of clients reached</c> and closed at once, as Redis does.
/// </para>
/// <para>
/// After a burst of connections has come and gone (the count fell by at least
/// <see cref="TrimConnectionDrop"/> below its peak and stayed there for a second), the cron runs one
/// compacting, decommitting garbage collection, so the process gives the burst's memory back to the
/// operating system instead of keeping the heap at its peak size.
/// </para>
/// </remarks>
public sealed class CacheServer : IAsyncDisposable, IServerStatus
{
    /// <summary>A fall in connections (from the peak) big enough to be worth giving memory back for.</summary>
    public const int TrimConnectionDrop = 1000;

    // Redis's hz 10.
    private static readonly TimeSpan s_cronInterval = TimeSpan.FromMilliseconds(100);

    // Redis's NET_MAX_WRITES_PER_EVENT: most bytes one client writes before the others get a turn.
    // As in Redis the budget is checked after a write, so one write may be larger; this bounds it
    // (a 256 KiB value goes out in one system call, a 64 MiB one in slices).
    private const int MaxWritePerTurn = 64 * 1024;
    private const int MaxWritePerCall = 256 * 1024;

    // How long the connection count must stay low before the heap is trimmed: one second of cron ticks.
    private const int TrimQuietTicks = 10;

    private static readonly byte[] s_maxClientsReached = "-ERR max number of clients reached\r\n"u8.ToArray();

    private readonly Loop _loop;
    private readonly EndPoint _endpoint;
    private readonly CommandProcessor _processor;
    private StreamServer? _server;
    private TimerHandle? _cronTimer;
    private IDisposable? _beforePoll;
    private int _connectionPeak;
    private int _quietTicks;

    /// <summary>Creates (does not start) the server.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="maxKeys">Keyspace bound (0: unbounded); writes of new keys beyond it get an OOM error.</param>
    public CacheServer(Loop loop, EndPoint endpoint, int maxKeys = 0)
        : this(loop, endpoint, maxKeys, expiryBudgetClock: null)
    {
    }

    /// <summary>As the public constructor, timing the expiry cycles' budgets on <paramref name="expiryBudgetClock"/> (tests pass the loop's virtual clock).</summary>
    internal CacheServer(Loop loop, EndPoint endpoint, int maxKeys, TimeProvider? expiryBudgetClock)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        _loop = loop;
        _endpoint = endpoint;
        Store = new CacheStore(loop.Time, maxKeys);
        Expiry = new ActiveExpiry(Store, s_cronInterval, expiryBudgetClock);
        _processor = new CommandProcessor(Store) { Status = this };
    }

    /// <summary>
    /// Most clients served at once (Redis's <c>maxclients</c>); default 10,000. <see cref="Start"/>
    /// lowers it to what the descriptor limit allows (<see cref="ClientLimit.Fit"/>); 0 leaves only that bound.
    /// </summary>
    public int MaxClients { get; init; } = ClientLimit.DefaultMaxClients;

    /// <summary>The client limit in force, once started.</summary>
    public int EffectiveMaxClients { get; private set; }

    /// <summary>The keyspace.</summary>
    public CacheStore Store { get; }

    /// <summary>The active expiry cycles.</summary>
    public ActiveExpiry Expiry { get; }

    /// <summary>The bound address, once started.</summary>
    /// <exception cref="InvalidOperationException">The server was not started.</exception>
    public EndPoint LocalEndPoint => _server?.LocalEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>Open client connections.</summary>
    public int ConnectionCount => _server?.ConnectionCount ?? 0;

    /// <summary>Keys removed by active expiry so far.</summary>
    public long ActivelyExpired => Expiry.Expired;

    /// <summary>Times the heap was trimmed after a burst of connections closed.</summary>
    public int HeapTrims { get; private set; }

    /// <summary>Connections refused at <see cref="EffectiveMaxClients"/>.</summary>
    public long RejectedConnections { get; private set; }

    int IServerStatus.ConnectedClients => ConnectionCount;

    int IServerStatus.MaxClients => EffectiveMaxClients;

    long IServerStatus.ExpiredKeys => ActivelyExpired;

    /// <summary>Binds, starts accepting, arms the expiry cron and the before-poll cycle. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="SocketException">Binding failed (e.g. <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public void Start()
    {
        if (_server is not null)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        EffectiveMaxClients = ClientLimit.Fit(MaxClients);
        _server = new StreamServer(_loop, _endpoint, HandleAsync)
        {
            // Like redis-server's tcp-backlog (511, clamped by somaxconn), with room for benchmark bursts.
            Backlog = 4096,
            MaxConnections = EffectiveMaxClients,
            OnRejected = RejectAsync,
        };
        _server.Start();
        _cronTimer = _loop.CallLater(s_cronInterval, Cron);
        _beforePoll = _loop.OnBeforePoll(BeforePoll);
    }

    /// <summary>Stops accepting and the cycles, waits up to <paramref name="grace"/> for clients, closes the rest. Loop thread.</summary>
    /// <param name="grace">How long to wait for clients.</param>
    /// <returns>Completes when every connection is closed.</returns>
    public Task StopAsync(TimeSpan grace)
    {
        StopCycles();
        return _server?.StopAsync(grace) ?? Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        StopCycles();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private Task RejectAsync(StreamConnection connection)
    {
        RejectedConnections++;
        return connection.SendAsync(s_maxClientsReached).AsTask();
    }

    private void StopCycles()
    {
        _cronTimer?.Cancel();
        _cronTimer = null;
        _beforePoll?.Dispose();
        _beforePoll = null;
    }

    private void BeforePoll() => Expiry.RunFastCycle();

    private void Cron()
    {
        Expiry.RunSlowCycle();
        TrimAfterBurst();

        // Re-armed rather than periodic, so a slow tick delays the next instead of piling up.
        _cronTimer = _loop.CallLater(s_cronInterval, Cron);
    }

    // The GC sizes its budgets from the peak and, with nothing allocating afterwards, never
    // collects again: an idle server would keep a burst's heap for good. One blocking, compacting,
    // decommitting collection once the burst is over gives it back.
    private void TrimAfterBurst()
    {
        int connections = ConnectionCount;
        if (_connectionPeak - connections < TrimConnectionDrop)
        {
            _quietTicks = 0;
            return;
        }

        if (++_quietTicks < TrimQuietTicks)
        {
            return;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        HeapTrims++;
        _connectionPeak = connections;
        _quietTicks = 0;
    }

    private async Task HandleAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        // The peak is taken here rather than sampled by the cron, so a burst shorter than a tick counts.
        if (ConnectionCount > _connectionPeak)
        {
            _connectionPeak = ConnectionCount;
            _quietTicks = 0;
        }

        RespConnectionDriver? driver = null;
        try
        {
            while (true)
            {
                // Idle: wait until bytes are there, holding no buffer (see the remarks). A client
                // that connects and stays silent costs no protocol state either: the driver is
                // created when its first bytes arrive.
                await connection.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                driver ??= new RespConnectionDriver(_processor);
                int received = await connection.ReceiveAsync(driver.GetReceiveMemory(), cancellationToken);
                if (received == 0)
                {
                    return;
                }

                ConnectionAction action = driver.CommitReceived(received);
                int writtenThisTurn = 0;
                while (!driver.PendingOutput.IsEmpty)
                {
                    ReadOnlyMemory<byte> pending = driver.PendingOutput;
                    if (pending.Length > MaxWritePerCall)
                    {
                        pending = pending[..MaxWritePerCall];
                    }

                    await connection.SendAsync(pending, cancellationToken);
                    driver.AdvanceOutput(pending.Length);
                    if (driver.PendingOutput.IsEmpty)
                    {
                        // Requests held back by the output high-water mark run once it has drained.
                        action = driver.Process();
                    }

                    writtenThisTurn += pending.Length;
                    if (writtenThisTurn >= MaxWritePerTurn && !driver.PendingOutput.IsEmpty)
                    {
                        // Redis's NET_MAX_WRITES_PER_EVENT: a client with megabytes to receive lets
                        // the others run between slices instead of holding the loop for all of it.
                        writtenThisTurn = 0;
                        await _loop.Yield();
                    }
                }

                if (action == ConnectionAction.CloseAfterFlush)
                {
                    return;
                }

                driver.ReleaseIdleBuffers();
            }
        }
        catch (SocketException)
        {
            // The client reset the connection; only this connection ends.
        }
        finally
        {
            driver?.Release();
        }
    }
}
