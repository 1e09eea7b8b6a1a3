using System.Net;
using System.Net.Sockets;
using EventLoop.Coroutines;

namespace EventLoop.Net;

/// <summary>
/// A stream server in the style of gevent's <c>StreamServer</c>: it accepts connections on a loop
/// and runs <c>handler(connection, token)</c> in a greenlet of its own per connection, named after
/// the peer. The connection is closed when the handler ends; a handler that throws is reported
/// through the loop's unhandled-exception handler and affects only its own connection.
/// </summary>
/// <remarks>
/// <para>
/// The handlers run in a <see cref="GreenletGroup"/> (<see cref="Group"/>): the server's own, or
/// one passed to the constructor, like gevent's <c>StreamServer(..., spawn=Pool(n))</c>. Two limits
/// apply, with different answers. A group with a limit (a <see cref="GreenletPool"/>) that is full
/// makes the server stop accepting until a slot frees: new clients wait in the kernel's accept
/// queue. <see cref="MaxConnections"/> reached makes the server accept the client, let
/// <see cref="OnRejected"/> write to it, and close it at once (Redis's "max number of clients
/// reached"): nobody waits in the backlog, and the server never runs out of descriptors, since
/// <see cref="MaxConnections"/> defaults to <see cref="DefaultMaxConnections"/>.
/// </para>
/// <para>
/// Loop-thread only, except <see cref="StopAsync"/>, <see cref="DisposeAsync"/> and
/// <see cref="Dispose"/>, which may be called from any thread. Do not stop the server from inside one
/// of its own handlers with a grace period: the stop would wait for the handler that waits for it.
/// </para>
/// </remarks>
public sealed partial class StreamServer : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Descriptors <see cref="DefaultMaxConnections"/> leaves free below the process's limit, as
    /// Redis lowers <c>maxclients</c> to the limit minus 32: the listener, the loop's own
    /// descriptors, logs, outgoing connections and rejections in flight.
    /// </summary>
    public const int ReservedDescriptors = 32;

    // Rejections writing at once; beyond them a rejected client is closed without OnRejected, so a
    // flood of clients that do not read cannot take more descriptors than the reserve holds.
    private const int MaxRejectionsInFlight = ReservedDescriptors / 2;

    private readonly Loop _loop;
    private readonly EndPoint _endPoint;
    private readonly Func<StreamConnection, CancellationToken, Task> _handler;
    private readonly GreenletGroup _group;
    private readonly GreenletPool _rejecting;
    private StreamListener? _listener;
    private Greenlet? _acceptor;
    private int _connections;
    private bool _stopping;

    /// <summary>Creates a server whose handlers run in a group of its own; nothing is bound until <see cref="Start"/>.</summary>
    /// <param name="loop">The loop the server and its handlers run on.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (port 0 picks one) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Serves one connection; its token is cancelled when the server kills it.</param>
    public StreamServer(Loop loop, EndPoint endpoint, Func<StreamConnection, CancellationToken, Task> handler)
        : this(loop, endpoint, handler, new GreenletGroup(loop ?? throw new ArgumentNullException(nameof(loop))))
    {
    }

    /// <summary>
    /// Creates a server whose handlers run in <paramref name="group"/>, like gevent's
    /// <c>spawn=Pool(n)</c>: a <see cref="GreenletPool"/>'s size bounds the handlers running at
    /// once (the server stops accepting while it is full). <see cref="StopAsync"/> joins and kills
    /// every greenlet of the group, as gevent's server does with its pool: give the server a
    /// group of its own when other greenlets must outlive it.
    /// </summary>
    /// <param name="loop">The loop the server and its handlers run on.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (port 0 picks one) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Serves one connection; its token is cancelled when the server kills it.</param>
    /// <param name="group">The group the handlers run in; of the same loop.</param>
    /// <exception cref="ArgumentException">The group belongs to another loop.</exception>
    public StreamServer(Loop loop, EndPoint endpoint, Func<StreamConnection, CancellationToken, Task> handler, GreenletGroup group)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(group);
        if (!ReferenceEquals(group.Loop, loop))
        {
            throw new ArgumentException("The group belongs to another loop.", nameof(group));
        }

        _loop = loop;
        _endPoint = endpoint;
        _handler = handler;
        _group = group;
        _rejecting = new GreenletPool(loop, MaxRejectionsInFlight);
    }

    /// <summary>
    /// The process's open-descriptor limit (<c>RLIMIT_NOFILE</c>, soft) minus
    /// <see cref="ReservedDescriptors"/>, at least 1; <see cref="int.MaxValue"/> when the limit is
    /// unlimited or cannot be read. Read anew on each call (the limit can change).
    /// </summary>
    public static int DefaultMaxConnections
    {
        get
        {
            if (SocketPal.GetOpenFileLimit(out ulong soft, out _) != SocketError.Success || soft >= int.MaxValue)
            {
                return int.MaxValue;
            }

            return (int)Math.Max(1, (long)soft - ReservedDescriptors);
        }
    }

    /// <summary>
    /// The most connections served at once; at the limit a new client is accepted, handed to
    /// <see cref="OnRejected"/> when set, and closed at once. Defaults to
    /// <see cref="DefaultMaxConnections"/> as it was when the server was created; 0: no limit.
    /// </summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>
    /// Writes to a client turned away at <see cref="MaxConnections"/> (say, Redis's
    /// <c>-ERR max number of clients reached</c>) before the server closes it. It runs in a
    /// greenlet, bounded by <see cref="RejectTimeout"/> (it is killed then), at most 16 at once
    /// (a burst beyond that waits for one to finish, so every rejected client gets the message).
    /// Null (default): close at once.
    /// </summary>
    public Func<StreamConnection, Task>? OnRejected { get; init; }

    /// <summary>How long <see cref="OnRejected"/> may take, so a client that does not read cannot hold it; 1 s by default.</summary>
    public TimeSpan RejectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Bind with <c>SO_REUSEPORT</c> (one server per loop on the same port). Off by default.</summary>
    public bool ReusePort { get; init; }

    /// <summary>The accept queue length; 512 by default.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    /// <exception cref="InvalidOperationException">The server was not started.</exception>
    public EndPoint LocalEndPoint => _listener?.LocalEndPoint ?? _groupEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>The group the handlers run in (the server's own unless one was passed).</summary>
    public GreenletGroup Group => _group;

    /// <summary>The number of this server's connections whose handler is still running.</summary>
    public int ConnectionCount => _shards is null ? ServedHere : SumShards(static s => s.ServedHere);

    // A group's acceptor only hands its connections on (each is counted by the shard that serves
    // it), so none of them counts, in ConnectionCount or in the active-connections meter.
    private int ServedHere => _handsOff ? 0 : _connections;

    /// <summary>Clients turned away at <see cref="MaxConnections"/> since the server started.</summary>
    public long RejectedCount
    {
        get => _shards is null ? _rejectedCount : SumShards(static s => s._rejectedCount);
        private set => _rejectedCount = value;
    }

    private long _rejectedCount;

    /// <summary>The loop the server runs on (its metrics' tag).</summary>
    internal Loop Loop => _loop;

    /// <summary>Binds, listens and starts accepting in a greenlet. Loop thread (or before the loop runs); any thread for a server over a <see cref="LoopGroup"/>.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">Binding or listening failed.</exception>
    /// <exception cref="ObjectDisposedException">A loop of the group was disposed (the group stopped) before the server could bind on it.</exception>
    public void Start()
    {
        if (_listener is not null || _shards is not null || _stopping)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections);
        ArgumentOutOfRangeException.ThrowIfLessThan(RejectTimeout, TimeSpan.Zero);
        if (_loops is not null)
        {
            StartGroup();
            return;
        }

        _listener = _loop.Listen(_endPoint, new ListenOptions { Backlog = Backlog, ReusePort = ReusePort });
        _acceptor = _loop.Spawn(AcceptLoopAsync);
        _acceptor.Name = $"StreamServer {_listener.LocalEndPoint}";
        NetMetrics.Register(this);
    }

    /// <summary>
    /// Stops accepting, waits up to <paramref name="grace"/> (loop time) for the running handlers
    /// to finish, kills the rest, and completes when all have finished. Any thread. Once the loop
    /// is disposed (its group stopped) there is nothing left to stop: its disposal killed the
    /// handlers and closed their connections and the listener, and the task completes.
    /// </summary>
    /// <param name="grace">How long handlers may keep running; <see cref="TimeSpan.Zero"/> kills them at once.</param>
    /// <returns>A task that completes once every handler has finished and its connection is closed.</returns>
    public Task StopAsync(TimeSpan grace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        if (_loops is not null)
        {
            return StopGroupAsync(grace);
        }

        if (Loop.Current == _loop)
        {
            return StopCoreAsync(grace);
        }

        return StopFromElsewhereAsync(grace);
    }

    /// <summary>Stops the server, killing running handlers at once (<see cref="StopAsync"/> with no grace).</summary>
    /// <returns>A task that completes once every handler has finished.</returns>
    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.Zero));

    /// <summary>Stops accepting and kills running handlers without waiting for them. Any thread (posted unless on the loop thread).</summary>
    public void Dispose()
    {
        if (_loops is not null)
        {
            DisposeGroup();
        }
        else if (_loop.CheckAccess())
        {
            DisposeCore();
        }
        else if (!_loop.IsDisposed)
        {
            _loop.Post(static s => ((StreamServer)s!).DisposeCore(), this);
        }
    }

    private void DisposeCore()
    {
        StopAccepting();
        _group.KillAll();
        _rejecting.KillAll();
    }

    /// <summary>
    /// The stop, asked off the loop thread, runs as a greenlet of the server's loop: one that the
    /// loop's disposal overtakes is ended as killed, where a posted callback would be dropped with
    /// the loop and the caller would wait for ever. A loop disposed before or during the stop has
    /// killed the handlers and closed their connections and the listener: the stop is done.
    /// </summary>
    private async Task StopFromElsewhereAsync(TimeSpan grace)
    {
        Greenlet stop;
        try
        {
            stop = _loop.Spawn(() => StopCoreAsync(grace));
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            await stop.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsKilled)
        {
            // Only the loop's disposal kills this greenlet (nothing else can reach it), and it
            // may still be killing greenlets, so IsDisposed is not yet true: the stop is done.
        }
    }

    private async Task StopCoreAsync(TimeSpan grace)
    {
        StopAccepting();
        if (_group.Count > 0 && grace > TimeSpan.Zero)
        {
            await _group.JoinAsync(grace).ConfigureAwait(true);
        }

        _group.KillAll();
        _rejecting.KillAll();
        await _group.JoinAsync().ConfigureAwait(true);
        await _rejecting.JoinAsync().ConfigureAwait(true);
        if (_acceptor is not null)
        {
            await _loop.JoinAllAsync([_acceptor]).ConfigureAwait(true);
        }
    }

    private void StopAccepting()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _acceptor?.Kill(); // it may wait for a slot rather than in accept
        _listener?.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        StreamListener listener = _listener!;
        while (!_stopping)
        {
            if (_group.IsFull)
            {
                // A full pool: leave new clients in the kernel's queue until a handler ends.
                await WaitForSlotAsync(cancellationToken).ConfigureAwait(true);
                continue;
            }

            StreamConnection connection;
            try
            {
                connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(true);
            }
            catch (ObjectDisposedException) when (_stopping)
            {
                return;
            }
            catch (OperationCanceledException) when (_stopping || cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (MaxConnections > 0 && _connections >= MaxConnections)
            {
                await RejectAsync(connection, cancellationToken).ConfigureAwait(true);
                continue;
            }

            // Someone else may have filled a shared pool while this accept waited: hold the client
            // until a slot frees.
            if ((_group.IsFull || _stopping) && !await HoldUntilRoomAsync(_group, connection, cancellationToken).ConfigureAwait(true))
            {
                return;
            }

            Serve(connection);
        }
    }

    private async ValueTask WaitForSlotAsync(CancellationToken cancellationToken)
    {
        while (_group.IsFull)
        {
            await _group.WaitAvailableAsync(cancellationToken).ConfigureAwait(true);
        }
    }

    /// <summary>
    /// Holds an accepted client until <paramref name="group"/> has room; false (the client closed)
    /// when the server stops meanwhile. Callers skip it when there is room and no stop, so an
    /// accept pays no async call in the common case.
    /// </summary>
    private async ValueTask<bool> HoldUntilRoomAsync(GreenletGroup group, StreamConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (group.IsFull)
            {
                await group.WaitAvailableAsync(cancellationToken).ConfigureAwait(true);
            }
        }
        catch (OperationCanceledException) when (_stopping)
        {
            connection.Dispose();
            return false;
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        if (_stopping)
        {
            connection.Dispose();
            return false;
        }

        return true;
    }

    private void Serve(StreamConnection connection)
    {
        var served = new ServedConnection(this, connection);
        Greenlet greenlet = _loop.Spawn(served.Body);
        greenlet.SetNameSource(served);
        _connections++;
        if (!_handsOff)
        {
            NetMetrics.Accepted.Add(1, NetMetrics.Tag(_loop));
        }

        _group.Add(greenlet, served);
    }

    /// <summary>Counts a connection turned away, in <see cref="RejectedCount"/> and the meter.</summary>
    private void CountRejected()
    {
        RejectedCount++;
        NetMetrics.Rejected.Add(1, NetMetrics.Tag(_loop));
    }

    private async ValueTask RejectAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        CountRejected();
        if (OnRejected is null)
        {
            connection.Dispose();
            return;
        }

        // At most MaxRejectionsInFlight rejections hold a descriptor at once; a burst beyond that
        // waits for one to finish (a short write to a fresh socket finishes in its first step),
        // so every client turned away still gets OnRejected's message, as Redis's clients do.
        if ((_rejecting.IsFull || _stopping) && !await HoldUntilRoomAsync(_rejecting, connection, cancellationToken).ConfigureAwait(true))
        {
            return;
        }

        var rejected = new RejectedConnection(this, connection);
        Greenlet greenlet = _loop.Spawn(rejected.Body);
        rejected.Deadline = _loop.CallLater(RejectTimeout, greenlet.Kill);
        _rejecting.Add(greenlet, rejected);
    }

    /// <summary>
    /// One accepted connection: the greenlet's body, the listener that closes the connection when
    /// the greenlet ends (however it ends: returned, threw, killed before it started), and its
    /// name (the peer, formatted only when someone reads it). One small object plus the body
    /// delegate per connection, where a wrapping async method cost a state machine, an await
    /// continuation and a link listener (≈ 260 bytes) for each of 10,000 held connections.
    /// </summary>
    private sealed class ServedConnection(StreamServer server, StreamConnection connection) : IGreenletListener, IGreenletNameSource
    {
        public Task Body(CancellationToken cancellationToken) => server._handler(connection, cancellationToken);

        public void OnGreenletCompleted(Greenlet greenlet)
        {
            connection.Dispose();
            server._connections--;
        }

        // The peer is looked up when the name is first read: a TCP peer that reset by then is gone
        // (getpeername fails), where a Unix peer without a name has none to begin with.
        public string GetGreenletName() =>
            connection.RemoteEndPoint?.ToString() ?? (server._endPoint is UnixDomainSocketEndPoint ? "unix:(unnamed)" : "tcp:(peer gone)");
    }

    /// <summary>A client turned away: <see cref="OnRejected"/> under a deadline, then the connection closes.</summary>
    private sealed class RejectedConnection(StreamServer server, StreamConnection connection) : IGreenletListener
    {
        public TimerHandle? Deadline { get; set; }

        public Task Body() => server.OnRejected!(connection);

        public void OnGreenletCompleted(Greenlet greenlet)
        {
            Deadline?.Cancel();
            connection.Dispose();
        }
    }
}
