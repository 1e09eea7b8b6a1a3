using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Samples.Cache;

/// <summary>
/// The Redis-protocol cache on the loop: a <see cref="StreamServer"/> with one greenlet per connection
/// driving a <see cref="RespConnectionDriver"/>, and a 100 ms timer for active expiry, like Redis's
/// <c>serverCron</c> calling <c>activeExpireCycle</c>.
/// </summary>
public sealed class CacheServer : IAsyncDisposable
{
    // Redis's hz 10.
    private static readonly TimeSpan ExpireInterval = TimeSpan.FromMilliseconds(100);

    // Work bound per tick: Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP (20) times a few loops.
    private const int ExpireKeysPerTick = 200;

    // 16 KiB: Redis's PROTO_IOBUF_LEN.
    private const int ReceiveBufferSize = 16 * 1024;

    private readonly Loop _loop;
    private readonly StreamServer _server;
    private readonly CommandProcessor _processor;
    private TimerHandle? _expireTimer;

    /// <summary>Creates (does not start) the server.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="maxKeys">Keyspace bound (0: unbounded); writes of new keys beyond it get an OOM error.</param>
    public CacheServer(Loop loop, EndPoint endpoint, int maxKeys = 0)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        _loop = loop;
        Store = new CacheStore(loop.Time, maxKeys);
        _processor = new CommandProcessor(Store);
        // Like redis-server's tcp-backlog (511, clamped by somaxconn), with room for benchmark bursts.
        _server = new StreamServer(loop, endpoint, HandleAsync) { Backlog = 4096 };
    }

    /// <summary>The keyspace.</summary>
    public CacheStore Store { get; }

    /// <summary>The bound address, once started.</summary>
    public EndPoint LocalEndPoint => _server.LocalEndPoint;

    /// <summary>Open client connections.</summary>
    public int ConnectionCount => _server.ConnectionCount;

    /// <summary>Keys removed by active expiry so far.</summary>
    public long ActivelyExpired { get; private set; }

    /// <summary>Binds, starts accepting and arms the expiry timer. Loop thread.</summary>
    /// <exception cref="SocketException">Binding failed (e.g. <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public void Start()
    {
        _server.Start();
        _expireTimer = _loop.CallLater(ExpireInterval, ExpireTick);
    }

    /// <summary>Stops accepting and the timer, waits up to <paramref name="grace"/> for clients, closes the rest. Loop thread.</summary>
    /// <param name="grace">How long to wait for clients.</param>
    /// <returns>Completes when every connection is closed.</returns>
    public Task StopAsync(TimeSpan grace)
    {
        _expireTimer?.Cancel();
        _expireTimer = null;
        return _server.StopAsync(grace);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _expireTimer?.Cancel();
        _expireTimer = null;
        await _server.DisposeAsync();
    }

    private void ExpireTick()
    {
        ActivelyExpired += Store.ExpireSample(ExpireKeysPerTick);

        // Re-armed rather than periodic, so a slow tick delays the next instead of piling up.
        _expireTimer = _loop.CallLater(ExpireInterval, ExpireTick);
    }

    private async Task HandleAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        var driver = new RespConnectionDriver(_processor);
        byte[] buffer = new byte[ReceiveBufferSize];
        try
        {
            while (true)
            {
                int received = await connection.ReceiveAsync(buffer, cancellationToken);
                if (received == 0)
                {
                    return;
                }

                ConnectionAction action = driver.Feed(buffer.AsSpan(0, received));
                while (!driver.PendingOutput.IsEmpty)
                {
                    ReadOnlyMemory<byte> pending = driver.PendingOutput;
                    await connection.SendAsync(pending, cancellationToken);
                    driver.AdvanceOutput(pending.Length);

                    // Requests held back by the output high-water mark run once it has drained.
                    action = driver.Process();
                }

                if (action == ConnectionAction.CloseAfterFlush)
                {
                    return;
                }
            }
        }
        catch (SocketException)
        {
            // The client reset the connection; only this connection ends.
        }
    }
}
