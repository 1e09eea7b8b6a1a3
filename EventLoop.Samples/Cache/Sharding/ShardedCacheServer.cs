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
    private readonly LoopGroup _group;
    private readonly EndPoint _endpoint;
    private readonly CacheShard[] _shards;
    private StreamServer? _server;

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

    int IServerStatus.ConnectedClients => ConnectionCount;

    int IServerStatus.MaxClients => 0;

    long IServerStatus.RejectedConnections => _server?.RejectedCount ?? 0;

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

        _server = new StreamServer(_group, _endpoint, HandleAsync) { Backlog = 4096 };
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
        CacheShard home = Array.Find(_shards, s => ReferenceEquals(s.Loop, connection.Loop))!;
        ClientSession session = home.Processor.CreateSession();
        var parser = new RespParser();
        var output = new ArrayBufferWriter<byte>();
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
                bool close = false;
                while (start < end && !close)
                {
                    OperationStatus status = parser.TryParse(input.AsSpan(start, end - start), out int consumed, out string? error);
                    start += consumed;
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status == OperationStatus.InvalidData)
                    {
                        RespWriter.WriteError(output, $"ERR {error}");
                        close = true;
                    }
                    else if (parser.Arguments.Count > 0)
                    {
                        close = await ShardedCommands.ExecuteAsync(_shards, home, session, parser.Arguments, output) == CommandResult.CloseAfterReply;
                    }
                }

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
}
