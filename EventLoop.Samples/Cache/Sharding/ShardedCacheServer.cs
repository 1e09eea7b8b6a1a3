using System.Buffers;
using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Samples.Cache.Sharding;

/// <summary>
/// The cache server over a <see cref="LoopGroup"/>, shared nothing, like Dragonfly: each key is
/// owned by one shard loop (its hash slot, as Redis Cluster numbers them, modulo the shard
/// count), with its own keyspace and expiry cycles. Connections live on whichever loop accepted
/// them (a listener per loop) and send each command to its owner (<see cref="Loop.InvokeAsync{T}(Func{Task{T}})"/>);
/// multi-key commands fan out and gather (<see cref="ShardedCommands"/>). A connection runs its
/// requests one after another, so replies to a pipelining client keep their order.
/// </summary>
public sealed class ShardedCacheServer : IAsyncDisposable, IServerStatus
{
    private static readonly Task<CommandResult> s_continue = Task.FromResult(CommandResult.Continue);
    private static readonly Task<CommandResult> s_close = Task.FromResult(CommandResult.CloseAfterReply);
    private static readonly byte[] s_maxClientsReached = "-ERR max number of clients reached\r\n"u8.ToArray();

    private readonly LoopGroup _group;
    private readonly EndPoint _endpoint;
    private readonly CacheShard[] _shards;
    private StreamServer? _server;
    private long _nextClientId; // one numbering for every shard loop: CLIENT ID is unique server-wide
    private int _clients; // clients being served on every loop: the limit is server-wide, as Redis's maxclients
    private long _rejected;

    /// <summary>Creates (does not start) the server: one shard per loop of <paramref name="group"/>.</summary>
    /// <param name="group">The shard loops.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="maxKeys">Keyspace bound per shard (0: unbounded).</param>
    public ShardedCacheServer(LoopGroup group, EndPoint endpoint, int maxKeys = 0)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(endpoint);
        _group = group;
        _endpoint = endpoint;
        _shards = new CacheShard[group.Count];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new CacheShard(group[i], i, maxKeys, this);
        }
    }

    /// <summary>The number of shards.</summary>
    public int ShardCount => _shards.Length;

    /// <summary>The bound address, once started.</summary>
    /// <exception cref="InvalidOperationException">The server was not started.</exception>
    public EndPoint LocalEndPoint => _server?.LocalEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>Open client connections (a snapshot summed over the loops).</summary>
    public int ConnectionCount => _server?.ConnectionCount ?? 0;

    /// <summary>
    /// Most clients served at once over every loop (Redis's <c>maxclients</c>); default 10,000.
    /// <see cref="Start"/> lowers it to what the descriptor limit allows (<see cref="ClientLimit.Fit"/>);
    /// 0 leaves only that bound. A client beyond it gets <c>-ERR max number of clients reached</c> and is closed.
    /// </summary>
    public int MaxClients { get; init; } = ClientLimit.DefaultMaxClients;

    /// <summary>The client limit in force, once started.</summary>
    public int EffectiveMaxClients { get; private set; }

    /// <summary>Connections refused at <see cref="EffectiveMaxClients"/>.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejected) + (_server?.RejectedCount ?? 0);

    int IServerStatus.ConnectedClients => Volatile.Read(ref _clients);

    int IServerStatus.MaxClients => EffectiveMaxClients;

    long IServerStatus.RejectedConnections => RejectedConnections;

    long IServerStatus.ExpiredKeys => _shards.Sum(s => s.Expiry.Expired);

    /// <summary>Binds on every loop and arms each shard's expiry cycles. Any thread.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="SocketException">Binding failed.</exception>
    public void Start()
    {
        if (_server is not null)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        EffectiveMaxClients = ClientLimit.Fit(MaxClients);

        // The limit is counted here, over every loop: the server's own would give each loop a share,
        // refusing a client on a busy loop while another has room.
        _server = new StreamServer(_group, _endpoint, HandleAsync) { Backlog = 4096, MaxConnections = 0 };
        _server.Start();
        foreach (CacheShard shard in _shards)
        {
            shard.Loop.Post(shard.StartCycles);
        }
    }

    /// <summary>Stops accepting and the cycles, waits up to <paramref name="grace"/> for clients, closes the rest. Any thread.</summary>
    /// <param name="grace">How long to wait for clients.</param>
    /// <returns>Completes when every connection is closed.</returns>
    public Task StopAsync(TimeSpan grace)
    {
        foreach (CacheShard shard in _shards)
        {
            if (!shard.Loop.IsDisposed)
            {
                shard.Loop.Post(shard.StopCycles);
            }
        }

        return _server?.StopAsync(grace) ?? Task.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.Zero));

    private async Task HandleAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _clients) > EffectiveMaxClients)
        {
            Interlocked.Decrement(ref _clients);
            Interlocked.Increment(ref _rejected);

            // A few bytes into an empty socket buffer: sent at once, even to a client that does not read.
            await connection.SendAsync(s_maxClientsReached, cancellationToken);
            return;
        }

        try
        {
            await ServeAsync(connection, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _clients);
        }
    }

    private async Task ServeAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        CacheShard home = Array.Find(_shards, s => ReferenceEquals(s.Loop, connection.Loop))!;
        var session = new ClientSession(Interlocked.Increment(ref _nextClientId));
        var parser = new RespParser();
        var output = new ArrayBufferWriter<byte>();
        var pending = new List<(Task<CommandResult> Task, ArrayBufferWriter<byte>? Buffer)>();
        byte[] input = ArrayPool<byte>.Shared.Rent(16 * 1024);
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (end == input.Length)
                {
                    if (start > 0)
                    {
                        input.AsSpan(start, end - start).CopyTo(input);
                        end -= start;
                        start = 0;
                    }
                    else if (input.Length >= RespLimits.Default.MaxQueryBufferLength)
                    {
                        return; // client-query-buffer-limit: closed without a reply, as Redis does
                    }
                    else
                    {
                        byte[] larger = ArrayPool<byte>.Shared.Rent(input.Length * 2);
                        input.AsSpan(0, end).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(input);
                        input = larger;
                    }
                }

                int received = await connection.ReceiveAsync(input.AsMemory(end), cancellationToken);
                if (received == 0)
                {
                    return;
                }

                end += received;
                bool close, more;
                do
                {
                    start += StartBatch(home, session, parser, input.AsSpan(start, end - start), output, pending, out close, out more);
                    foreach ((Task<CommandResult> task, ArrayBufferWriter<byte>? buffer) in pending)
                    {
                        // Replies go out in request order, whichever shard answers first.
                        close |= await task == CommandResult.CloseAfterReply;
                        if (buffer is not null)
                        {
                            output.Write(buffer.WrittenSpan);
                        }
                    }

                    pending.Clear();
                }
                while (more && !close);

                if (start == end)
                {
                    start = end = 0;
                }

                if (output.WrittenCount > 0)
                {
                    await connection.SendAsync(output.WrittenMemory, cancellationToken);
                    output.ResetWrittenCount();
                }

                if (close)
                {
                    return;
                }
            }
        }
        catch (SocketException)
        {
            // The client reset the connection; only this connection ends.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    /// <summary>
    /// Parses every complete request in <paramref name="input"/> and starts it: requests for other
    /// shards are all in flight at once (a pipelining client pays one hop per batch, not per
    /// request). Until the first request that has to wait, replies go straight to
    /// <paramref name="output"/>; after it each request writes to a buffer of its own, queued in
    /// <paramref name="pending"/> in request order. Arguments that may travel to another shard
    /// are copied, since the parser reuses its storage for the next request. Each shard sees a
    /// connection's requests in the order sent (one loop posts them FIFO), as in Redis Cluster. A
    /// request whose keys span shards is the last one started (<paramref name="more"/> is then
    /// true): the requests after it start once it is done, so they see its effect.
    /// </summary>
    /// <returns>The bytes consumed.</returns>
    private int StartBatch(
        CacheShard home,
        ClientSession session,
        RespParser parser,
        ReadOnlySpan<byte> input,
        ArrayBufferWriter<byte> output,
        List<(Task<CommandResult> Task, ArrayBufferWriter<byte>? Buffer)> pending,
        out bool close,
        out bool more)
    {
        int offset = 0;
        close = false;
        more = false;
        while (offset < input.Length && !close && !more)
        {
            OperationStatus status = parser.TryParse(input[offset..], out int consumed, out string? error);
            offset += consumed;
            if (status == OperationStatus.NeedMoreData)
            {
                break;
            }

            ArrayBufferWriter<byte>? own = pending.Count == 0 ? null : new ArrayBufferWriter<byte>();
            IBufferWriter<byte> target = own ?? output;
            if (status == OperationStatus.InvalidData)
            {
                RespWriter.WriteError(target, $"ERR {error}");
                close = true;
                if (own is not null)
                {
                    pending.Add((s_close, own));
                }

                break;
            }

            IReadOnlyList<ReadOnlyMemory<byte>> args = parser.Arguments;
            if (args.Count == 0)
            {
                continue;
            }

            if (ShardedCommands.MayForward(_shards, home, args))
            {
                args = ShardedCommands.Copy(args);
            }

            more = ShardedCommands.SpansShards(_shards, args);

            ValueTask<CommandResult> result = ShardedCommands.ExecuteAsync(_shards, home, session, args, target);
            if (result.IsCompletedSuccessfully)
            {
                close = result.Result == CommandResult.CloseAfterReply;
                if (own is not null)
                {
                    pending.Add((close ? s_close : s_continue, own));
                }
            }
            else
            {
                pending.Add((result.AsTask(), own));
            }
        }

        return offset;
    }
}
