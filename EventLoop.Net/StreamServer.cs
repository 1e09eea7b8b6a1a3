using System.Net;
using System.Net.Sockets;
using EventLoop.Coroutines;
using EventLoop.Net.Internal;

namespace EventLoop.Net;

/// <summary>
/// A stream server in the style of gevent's <c>StreamServer</c>: it accepts connections on a loop
/// and runs <c>handler(connection, token)</c> in a greenlet of its own per connection, named after
/// the peer. The connection is closed when the handler ends; a handler that throws is reported
/// through the loop's unhandled-exception handler and affects only its own connection.
/// </summary>
/// <remarks>
/// Loop-thread only, except <see cref="StopAsync"/>, <see cref="DisposeAsync"/> and
/// <see cref="Dispose"/>, which may be called from any thread. Do not stop the server from inside one
/// of its own handlers with a grace period: the stop would wait for the handler that waits for it.
/// </remarks>
public sealed class StreamServer : IAsyncDisposable, IDisposable
{
    private readonly Loop _loop;
    private readonly EndPoint _endPoint;
    private readonly Func<StreamConnection, CancellationToken, Task> _handler;
    private readonly HashSet<Greenlet> _handlers = [];
    private StreamListener? _listener;
    private Greenlet? _acceptor;
    private bool _stopping;

    /// <summary>Creates a server; nothing is bound until <see cref="Start"/>.</summary>
    /// <param name="loop">The loop the server and its handlers run on.</param>
    /// <param name="endpoint">An <see cref="IPEndPoint"/> (port 0 picks one) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Serves one connection; its token is cancelled when the server kills it.</param>
    public StreamServer(Loop loop, EndPoint endpoint, Func<StreamConnection, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(handler);
        _loop = loop;
        _endPoint = endpoint;
        _handler = handler;
    }

    // How long OnRejected may take before the rejected connection is closed anyway.
    private static readonly TimeSpan RejectTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The most connections served at once. At the limit a new connection is still accepted (so no
    /// client waits in the backlog), handed to <see cref="OnRejected"/> and closed. 0 (default): unlimited.
    /// </summary>
    public int MaxConnections { get; init; }

    /// <summary>
    /// Called with each connection refused at <see cref="MaxConnections"/>, before it is closed, to
    /// write a last word (Redis: <c>-ERR max number of clients reached</c>). It may take up to one
    /// second (loop time); then the connection is closed regardless. Null: closed at once.
    /// </summary>
    public Func<StreamConnection, Task>? OnRejected { get; init; }

    /// <summary>Bind with <c>SO_REUSEPORT</c> (one server per loop on the same port). Off by default.</summary>
    public bool ReusePort { get; init; }

    /// <summary>The accept queue length; 512 by default.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    /// <exception cref="InvalidOperationException">The server was not started.</exception>
    public EndPoint LocalEndPoint => _listener?.LocalEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>The number of connections whose handler is still running.</summary>
    public int ConnectionCount => _handlers.Count;

    /// <summary>Binds, listens and starts accepting in a greenlet. Loop thread (or before the loop runs).</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">Binding or listening failed.</exception>
    public void Start()
    {
        if (_listener is not null || _stopping)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections);
        _listener = _loop.Listen(_endPoint, new ListenOptions { Backlog = Backlog, ReusePort = ReusePort });
        _acceptor = _loop.Spawn(AcceptLoopAsync);
        _acceptor.Name = $"StreamServer {_listener.LocalEndPoint}";
    }

    /// <summary>
    /// Stops accepting, waits up to <paramref name="grace"/> (loop time) for the running handlers
    /// to finish, kills the rest, and completes when all have finished. Any thread.
    /// </summary>
    /// <param name="grace">How long handlers may keep running; <see cref="TimeSpan.Zero"/> kills them at once.</param>
    /// <returns>A task that completes once every handler has finished and its connection is closed.</returns>
    public Task StopAsync(TimeSpan grace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        if (Loop.Current == _loop)
        {
            return StopCoreAsync(grace);
        }

        return LoopInvoke.RunAsync(_loop, () => new ValueTask(StopCoreAsync(grace)));
    }

    /// <summary>Stops the server, killing running handlers at once (<see cref="StopAsync"/> with no grace).</summary>
    /// <returns>A task that completes once every handler has finished.</returns>
    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.Zero));

    /// <summary>Stops accepting and kills running handlers without waiting for them. Any thread.</summary>
    public void Dispose()
    {
        if (!_loop.IsOwnerThread)
        {
            if (!_loop.IsDisposed)
            {
                _loop.Post(static s => ((StreamServer)s!).DisposeCore(), this);
            }

            return;
        }

        DisposeCore();
    }

    private void DisposeCore()
    {
        StopAccepting();
        foreach (Greenlet handler in _handlers.ToArray())
        {
            handler.Kill();
        }
    }

    private async Task StopCoreAsync(TimeSpan grace)
    {
        StopAccepting();
        if (_handlers.Count > 0 && grace > TimeSpan.Zero)
        {
            await _loop.JoinAllAsync(_handlers.ToArray(), grace).ConfigureAwait(true);
        }

        Greenlet[] remaining = [.. _handlers];
        foreach (Greenlet handler in remaining)
        {
            handler.Kill();
        }

        List<Greenlet> all = [.. remaining];
        if (_acceptor is not null)
        {
            all.Add(_acceptor);
        }

        await _loop.JoinAllAsync(all).ConfigureAwait(true);
    }

    private void StopAccepting()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _listener?.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        StreamListener listener = _listener!;
        while (!_stopping)
        {
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

            if (_stopping)
            {
                connection.Dispose();
                return;
            }

            if (MaxConnections > 0 && _handlers.Count >= MaxConnections)
            {
                Reject(connection);
                continue;
            }

            Serve(connection);
        }
    }

    private void Reject(StreamConnection connection)
    {
        Task written;
        try
        {
            written = OnRejected?.Invoke(connection) ?? Task.CompletedTask;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            written = Task.CompletedTask;
        }

        if (written.IsCompleted)
        {
            connection.Dispose();
            return;
        }

        // The last word did not fit in the send buffer: finish it in the background, bounded.
        _loop.Spawn(async () =>
        {
            try
            {
                await _loop.MoveOnAfter(RejectTimeout, () => written).ConfigureAwait(true);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The client is gone; nothing to tell it.
            }
            finally
            {
                connection.Dispose();
            }
        });
    }

    private void Serve(StreamConnection connection)
    {
        var served = new ServedConnection(this, connection);
        Greenlet greenlet = _loop.Spawn(served.Body);
        greenlet.SetNameSource(served);
        _handlers.Add(greenlet);
        greenlet.AddListener(served);
    }

    private void OnHandlerDone(Greenlet greenlet)
    {
        _handlers.Remove(greenlet);
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
            server.OnHandlerDone(greenlet);
        }

        public string GetGreenletName() => connection.RemoteEndPoint?.ToString() ?? "unix:(unnamed)";
    }
}
