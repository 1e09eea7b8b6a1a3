using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;

namespace EventLoop.Net;

/// <summary>A stream server over a <see cref="LoopGroup"/>: one shard server per loop.</summary>
public sealed partial class StreamServer
{
    private readonly LoopGroup? _loops;
    private StreamServer[]? _shards;
    private EndPoint? _groupEndPoint;
    private bool _handsOff; // the shard that accepts for every loop: its hand-offs are counted where they are served

    /// <summary>
    /// Creates a server over every loop of <paramref name="group"/>, like nginx's or Envoy's
    /// workers: each loop accepts and serves its own connections, which stay on the loop that
    /// accepted them. Nothing is bound until <see cref="Start"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// On Linux with an <see cref="IPEndPoint"/>, each loop has a listener of its own on the same
    /// address (<c>SO_REUSEPORT</c>: the kernel spreads new connections over the listeners by a
    /// hash of the peer). Elsewhere (Unix domain sockets, where <c>SO_REUSEPORT</c> does not
    /// balance, or other systems) the first loop alone accepts and hands each connection round
    /// robin (<see cref="LoopGroup.Next"/>) to a loop, which serves it from then on.
    /// </para>
    /// <para>
    /// <see cref="Start"/> may be called from any thread and returns once every loop listens, so
    /// <see cref="LocalEndPoint"/> is readable at once. <see cref="MaxConnections"/> is shared out:
    /// each loop serves at most its share (rounded up). <see cref="ConnectionCount"/> and
    /// <see cref="RejectedCount"/> sum the loops' counts (a snapshot). <see cref="Group"/> and
    /// <see cref="ReusePort"/> do not apply. <see cref="StopAsync"/> stops every loop's part.
    /// </para>
    /// </remarks>
    /// <param name="group">The loops; they must be running (a <see cref="LoopGroup"/> runs them).</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (port 0 picks one) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Serves one connection, on the loop that holds it; its token is cancelled when the server kills it.</param>
    public StreamServer(LoopGroup group, EndPoint endpoint, Func<StreamConnection, CancellationToken, Task> handler)
        : this((group ?? throw new ArgumentNullException(nameof(group)))[0], endpoint, handler)
    {
        _loops = group;
    }

    /// <summary>True when each loop has its own listener (<c>SO_REUSEPORT</c>); false when one loop accepts for all.</summary>
    private bool ListenerPerLoop => OperatingSystem.IsLinux() && _endPoint is IPEndPoint;

    private void StartGroup()
    {
        LoopGroup loops = _loops!;
        bool perLoop = ListenerPerLoop;

        // One serving shard per loop; when one loop accepts for all, its acceptor is one more
        // (last, so a loop's serving shard is the first with that loop) whose handler hands each
        // connection to the shard of the loop the round robin picks, its own loop's included, so
        // each loop's share of MaxConnections counts the connections that loop serves.
        var shards = new StreamServer[perLoop ? loops.Count : loops.Count + 1];
        try
        {
            if (perLoop)
            {
                shards[0] = CreateShard(loops[0], _endPoint, _handler, MaxConnections, reusePort: true);
                _shards = shards;
                RunOn(loops[0], shards[0].Start);

                // The others bind the address the first one got (its real port when 0 was asked).
                for (int i = 1; i < loops.Count; i++)
                {
                    shards[i] = CreateShard(loops[i], shards[0].LocalEndPoint, _handler, MaxConnections, reusePort: true);
                    RunOn(loops[i], shards[i].Start);
                }
            }
            else
            {
                for (int i = 0; i < loops.Count; i++)
                {
                    shards[i] = CreateShard(loops[i], _endPoint, _handler, MaxConnections, reusePort: false);
                    NetMetrics.Register(shards[i]); // serves what the acceptor hands it: its connections are active ones too
                }

                // The acceptor turns nobody away: the shard that serves a connection applies its share.
                StreamServer acceptor = CreateShard(loops[0], _endPoint, HandOffAsync, maxConnections: 0, reusePort: false);
                acceptor._handsOff = true;
                shards[^1] = acceptor;
                _shards = shards;
                RunOn(loops[0], acceptor.Start);
            }

            _groupEndPoint = shards[^1].LocalEndPoint;
        }
        catch
        {
            foreach (StreamServer? shard in shards)
            {
                shard?.Dispose();
            }

            _shards = null; // not started: a later Stop or Dispose has nothing to stop
            throw;
        }
    }

    private StreamServer CreateShard(Loop loop, EndPoint endpoint, Func<StreamConnection, CancellationToken, Task> handler, int maxConnections, bool reusePort)
    {
        int count = _loops!.Count;
        return new StreamServer(loop, endpoint, handler)
        {
            MaxConnections = maxConnections == 0 ? 0 : (int)Math.Max(1, ((long)maxConnections + count - 1) / count),
            OnRejected = OnRejected,
            RejectTimeout = RejectTimeout,
            Backlog = Backlog,
            ReusePort = reusePort,
        };
    }

    private Task StopGroupAsync(TimeSpan grace)
    {
        StreamServer[]? shards = _shards;
        if (shards is null)
        {
            _stopping = true;
            return Task.CompletedTask;
        }

        var stops = new Task[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            stops[i] = shards[i].StopAsync(grace);
        }

        return Task.WhenAll(stops);
    }

    private void DisposeGroup()
    {
        _stopping = true;
        foreach (StreamServer shard in _shards ?? [])
        {
            shard.Dispose();
        }
    }

    private int SumShards(Func<StreamServer, long> count)
    {
        long sum = 0;
        foreach (StreamServer shard in _shards ?? [])
        {
            sum += count(shard);
        }

        return (int)Math.Min(sum, int.MaxValue);
    }

    /// <summary>
    /// The acceptor's handler when the first loop accepts for every loop: hand a duplicate of the
    /// connection's descriptor to the shard of the loop the round robin picks (the original is
    /// closed when this returns); that shard applies its share of the limit and serves it.
    /// </summary>
    private Task HandOffAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        Loop target = _loops!.Next();
        StreamServer shard = Array.Find(_shards!, s => ReferenceEquals(s._loop, target))!;
        int fd = Interop.Libc.fcntl(connection.Socket.Fd, Interop.Libc.F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
        {
            NetMetrics.Accepted.Add(1, NetMetrics.Tag(connection.Loop));
            return _handler(connection, cancellationToken); // out of descriptors: serve it here
        }

        try
        {
            target.Post(static s => { var (server, descriptor) = ((StreamServer, int))s!; server.Adopt(descriptor); }, (shard, fd));
        }
        catch (ObjectDisposedException)
        {
            SocketPal.Close(fd);
        }

        return Task.CompletedTask;
    }

    /// <summary>Serves a connection the acceptor handed to this shard, on this shard's loop. Loop thread.</summary>
    private void Adopt(int fd)
    {
        if (_stopping)
        {
            SocketPal.Close(fd);
            return;
        }

        StreamConnection connection;
        try
        {
            connection = new StreamConnection(_loop, fd, _endPoint is UnixDomainSocketEndPoint);
        }
        catch
        {
            SocketPal.Close(fd);
            throw;
        }

        if (MaxConnections > 0 && _connections >= MaxConnections)
        {
            if (_rejecting.IsFull)
            {
                // No greenlet here to wait for a rejection slot: close at once.
                CountRejected();
                connection.Dispose();
                return;
            }

            RejectAsync(connection, CancellationToken.None).GetAwaiter().GetResult(); // a free slot: completes synchronously
            return;
        }

        Serve(connection);
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="loop"/> and waits for it; rethrows its exception.</summary>
    private static void RunOn(Loop loop, Action action)
    {
        if (loop.CheckAccess())
        {
            action();
            return;
        }

        // Blocks the caller only until that loop has run the action; it never needs the
        // caller's own loop, so a greenlet of another loop of the group may start a server. A
        // greenlet rather than a posted callback: if the loop is disposed first (the group
        // stopping), the greenlet is ended as killed, where the callback would be dropped and
        // the caller would wait for ever.
        ExceptionDispatchInfo? failure = null;
        Greenlet run = loop.Spawn(() =>
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }

            return Task.CompletedTask;
        });
        try
        {
            run.Task.Wait();
        }
        catch (AggregateException)
        {
            // Killed: read below.
        }

        failure?.Throw();
        if (run.IsKilled)
        {
            // Only the loop's disposal kills this greenlet (nothing else can reach it), and it may
            // still be killing greenlets, so IsDisposed need not be true yet: as in StopAsync.
            throw new ObjectDisposedException(nameof(Loop), $"The loop '{loop.Name}' was disposed before the server could start on it.");
        }
    }
}
