using System.Net;
using System.Net.Sockets;

namespace EventLoop.Samples.Selectors;

/// <summary>
/// The echo server from Python's <c>selectors</c> documentation, on <see cref="Loop.Register(Socket, IoEvents, Action{IoRegistration, IoEvents})"/>
/// only: no greenlets, no awaits, one callback per descriptor. Loop-thread only.
/// </summary>
/// <remarks>
/// The listening socket's read callback accepts one connection per readiness event (the registration
/// is level-triggered, so a backlog of pending connections calls it again on the next iteration) and
/// registers the new socket for Read. A read callback echoes what it got; if the kernel takes only part
/// of it, the rest is kept and the registration switches to Write until it is flushed, so a slow reader
/// cannot make the server buffer without bound (reading pauses meanwhile).
/// </remarks>
public sealed class SelectorsEchoServer : IDisposable
{
    // 4096: the Python original's recv(1000) rounded up to a page; any size works.
    private const int BufferSize = 4096;

    private readonly Loop _loop;
    private readonly TextWriter? _log;
    private readonly Socket _listener;
    private readonly HashSet<Connection> _connections = [];
    private IoRegistration? _acceptRegistration;
    private bool _disposed;

    /// <summary>Binds and listens (so the port is known), without registering anything yet.</summary>
    /// <param name="loop">The loop the callbacks run on.</param>
    /// <param name="endpoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="log">Where <c>accepted</c>/<c>echoing</c>/<c>closing</c> lines go; null for none.</param>
    /// <exception cref="SocketException">Binding failed (e.g. <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public SelectorsEchoServer(Loop loop, IPEndPoint endpoint, TextWriter? log)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        _loop = loop;
        _log = log;
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Blocking = false;
            _listener.Bind(endpoint);
            _listener.Listen(128);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    /// <summary>The bound address (with the chosen port).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Connections currently open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Connections accepted since start.</summary>
    public int AcceptedCount { get; private set; }

    /// <summary>Bytes echoed back since start.</summary>
    public long BytesEchoed { get; private set; }

    /// <summary>Registers the listening socket with the loop. Loop thread.</summary>
    /// <exception cref="ObjectDisposedException">The server was disposed.</exception>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_acceptRegistration is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        _acceptRegistration = _loop.Register(_listener, IoEvents.Read, (_, _) => Accept());
    }

    /// <summary>Unregisters and closes the listener and every connection. Loop thread (or after the loop stopped).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _acceptRegistration?.Dispose();
        _listener.Dispose();
        foreach (Connection connection in _connections.ToArray())
        {
            connection.Close(log: false);
        }
    }

    private void Accept()
    {
        Socket socket;
        try
        {
            socket = _listener.Accept();
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionAborted or SocketError.ConnectionReset)
        {
            // Readiness can be stale, or the peer gave up before we accepted; nothing to do.
            return;
        }

        socket.Blocking = false;
        socket.NoDelay = true;
        var connection = new Connection(this, socket);
        _connections.Add(connection);
        AcceptedCount++;
        _log?.WriteLine($"accepted {connection.Peer}");
    }

    private sealed class Connection
    {
        private readonly SelectorsEchoServer _server;
        private readonly Socket _socket;
        private readonly IoRegistration _registration;
        private readonly byte[] _buffer = new byte[BufferSize];
        private int _unsentStart;
        private int _unsentEnd;
        private bool _closed;

        public Connection(SelectorsEchoServer server, Socket socket)
        {
            _server = server;
            _socket = socket;
            Peer = socket.RemoteEndPoint?.ToString() ?? "?";
            _registration = server._loop.Register(socket, IoEvents.Read, (_, events) => OnReady(events));
        }

        public string Peer { get; }

        public void Close(bool log)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            if (log)
            {
                _server._log?.WriteLine($"closing {Peer}");
            }

            // Unregister before closing, as with selectors: a closed descriptor's number is reused.
            _registration.Dispose();
            _socket.Dispose();
            _server._connections.Remove(this);
        }

        private void OnReady(IoEvents events)
        {
            // Errors and hang-ups arrive as Read|Write; whichever direction is registered sees the error.
            if ((events & IoEvents.Write) != 0 && _unsentEnd > _unsentStart)
            {
                Flush();
            }
            else if ((events & IoEvents.Read) != 0)
            {
                Read();
            }
        }

        private void Read()
        {
            int received = _socket.Receive(_buffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error != SocketError.Success || received == 0)
            {
                Close(log: true);
                return;
            }

            _server._log?.WriteLine($"echoing {received} bytes to {Peer}");
            _unsentStart = 0;
            _unsentEnd = received;
            Flush();
        }

        private void Flush()
        {
            int sent = _socket.Send(_buffer.AsSpan(_unsentStart, _unsentEnd - _unsentStart), SocketFlags.None, out SocketError error);
            if (error is not (SocketError.Success or SocketError.WouldBlock))
            {
                Close(log: true);
                return;
            }

            if (error == SocketError.Success)
            {
                _unsentStart += sent;
                _server.BytesEchoed += sent;
            }

            if (_unsentStart == _unsentEnd)
            {
                _registration.Update(IoEvents.Read);
            }
            else
            {
                // Partial send: stop reading (the buffer is still in use) until the kernel drains.
                _registration.Update(IoEvents.Write);
            }
        }
    }
}
