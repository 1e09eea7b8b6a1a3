using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Samples.Echo;

/// <summary>
/// gevent's echo server: a <see cref="StreamServer"/> that runs one greenlet per connection,
/// receiving up to <see cref="DefaultBufferSize"/> bytes at a time (or the size it is given) and
/// sending them straight back.
/// </summary>
/// <remarks>
/// Benchmarked against a C epoll server, so the per-connection loop allocates nothing per message:
/// the loop's spare buffer (<see cref="SpareBuffer"/>) borrowed per message, and in quiet mode no
/// formatting at all.
/// </remarks>
public static class EchoServer
{
    /// <summary>The default receive size: gevent's example reads <c>socket.recv(1024)</c>.</summary>
    public const int DefaultBufferSize = 1024;

    /// <summary>The largest receive size accepted (1 MiB).</summary>
    public const int MaxBufferSize = 1024 * 1024;

    // A connect storm (10,000 clients at once) overflows a 512-entry accept queue; dropped SYNs
    // are retried by the clients only after a second. The kernel clamps this to somaxconn,
    // as it does for the C reference server's listen(fd, 65535).
    private const int Backlog = 65535;

    /// <summary>Creates (does not start) an echo server.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="log">Where <c>recv: …</c> lines go; null (quiet) for none.</param>
    /// <param name="bufferSize">The most bytes one receive takes (1 to <see cref="MaxBufferSize"/>).</param>
    /// <returns>The server; call <see cref="StreamServer.Start"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferSize"/> is out of range.</exception>
    public static StreamServer Create(Loop loop, EndPoint endpoint, TextWriter? log, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        CheckBufferSize(bufferSize);
        Func<StreamConnection, CancellationToken, Task> handler = log is null
            ? (connection, ct) => HandleQuietAsync(connection, bufferSize, ct)
            : (connection, ct) => HandleLoggedAsync(connection, log, bufferSize, ct);
        return new StreamServer(loop, endpoint, handler)
        {
            Backlog = Backlog,
        };
    }

    /// <summary>
    /// Creates (does not start) an echo server over every loop of <paramref name="group"/>: each
    /// loop listens on the same port (<c>SO_REUSEPORT</c>) and serves the connections it accepts.
    /// </summary>
    /// <param name="group">The loops.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="log">Where <c>recv: …</c> lines go (written from every loop's thread, so synchronized); null (quiet) for none.</param>
    /// <param name="bufferSize">The most bytes one receive takes (1 to <see cref="MaxBufferSize"/>).</param>
    /// <returns>The server; call <see cref="StreamServer.Start"/> (any thread).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferSize"/> is out of range.</exception>
    public static StreamServer Create(LoopGroup group, EndPoint endpoint, TextWriter? log, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(endpoint);
        CheckBufferSize(bufferSize);
        TextWriter? shared = log is null ? null : TextWriter.Synchronized(log);
        Func<StreamConnection, CancellationToken, Task> handler = shared is null
            ? (connection, ct) => HandleQuietAsync(connection, bufferSize, ct)
            : (connection, ct) => HandleLoggedAsync(connection, shared, bufferSize, ct);
        return new StreamServer(group, endpoint, handler)
        {
            Backlog = Backlog,
        };
    }

    /// <summary>Echoes until the peer half-closes, then half-closes back. No output.</summary>
    /// <param name="connection">The accepted connection (closed by the server when this returns).</param>
    /// <param name="cancellationToken">Cancelled when the server stops.</param>
    /// <returns>Completes when the connection is done.</returns>
    public static Task HandleQuietAsync(StreamConnection connection, CancellationToken cancellationToken) =>
        HandleQuietAsync(connection, DefaultBufferSize, cancellationToken);

    /// <summary>Echoes until the peer half-closes, then half-closes back, receiving up to <paramref name="bufferSize"/> bytes at a time. No output.</summary>
    /// <param name="connection">The accepted connection (closed by the server when this returns).</param>
    /// <param name="bufferSize">The most bytes one receive takes (1 to <see cref="MaxBufferSize"/>).</param>
    /// <param name="cancellationToken">Cancelled when the server stops.</param>
    /// <returns>Completes when the connection is done.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferSize"/> is out of range.</exception>
    public static async Task HandleQuietAsync(StreamConnection connection, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CheckBufferSize(bufferSize);
        SpareBuffer spares = SpareBuffer.Of(connection.Loop);
        try
        {
            while (true)
            {
                // Wait for data holding no buffer (a zero-byte receive), then borrow one for the
                // echo: 10,000 idle connections cost no 10 MB of buffers. It costs no system call
                // either: after a short read the wait trusts that the socket is drained and waits
                // for the next edge, so a message costs one recv and one send, as in the C server.
                await connection.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                byte[] buffer = spares.Take(bufferSize);
                try
                {
                    int received = await connection.ReceiveAsync(buffer.AsMemory(0, bufferSize), cancellationToken);
                    if (received == 0)
                    {
                        connection.ShutdownSend();
                        return;
                    }

                    await connection.SendAsync(buffer.AsMemory(0, received), cancellationToken);
                }
                finally
                {
                    spares.GiveBack(buffer);
                }
            }
        }
        catch (SocketException)
        {
            // A reset peer ends only its own connection; benchmarks kill clients mid-stream.
        }
    }

    private static async Task HandleLoggedAsync(StreamConnection connection, TextWriter log, int bufferSize, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[bufferSize];
        try
        {
            while (true)
            {
                int received = await connection.ReceiveAsync(buffer, cancellationToken);
                if (received == 0)
                {
                    connection.ShutdownSend();
                    return;
                }

                log.WriteLine($"recv: {Printable(buffer.AsSpan(0, received))}");
                await connection.SendAsync(buffer.AsMemory(0, received), cancellationToken);
            }
        }
        catch (SocketException)
        {
        }
    }

    private static void CheckBufferSize(int bufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bufferSize, MaxBufferSize);
    }

    // Like Python's repr of bytes, minus the b'': control characters would garble the terminal.
    private static string Printable(ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder(data.Length);
        foreach (byte b in data)
        {
            text.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }

        return text.ToString();
    }
}
