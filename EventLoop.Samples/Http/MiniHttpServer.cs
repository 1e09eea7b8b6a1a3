using System.Buffers;
using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Samples.Http;

/// <summary>
/// A tiny HTTP/1.1 server on the loop (a <see cref="StreamServer"/>, one greenlet per connection) that
/// serves a <see cref="MiniHttpSite"/>, so <c>fetch</c> and <c>demo</c> work offline. Keep-alive is
/// honoured because HttpClient reuses connections; pipelined requests are answered in order.
/// </summary>
public sealed class MiniHttpServer : IAsyncDisposable
{
    // 8 KiB holds any request head we accept (MiniHttp.MaxHeadLength) plus a pipelined follower.
    private const int ReceiveBufferSize = 16 * 1024;

    private readonly StreamServer _server;
    private readonly MiniHttpSite _site;

    /// <summary>Creates (does not start) the server.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="endpoint">Where to listen; port 0 picks one.</param>
    /// <param name="site">What to serve.</param>
    public MiniHttpServer(Loop loop, EndPoint endpoint, MiniHttpSite site)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(site);
        _site = site;
        _server = new StreamServer(loop, endpoint, HandleAsync);
    }

    /// <summary>The bound address, once started.</summary>
    public EndPoint LocalEndPoint => _server.LocalEndPoint;

    /// <summary>Requests answered so far.</summary>
    public int RequestsServed { get; private set; }

    /// <summary>Base URL such as <c>http://127.0.0.1:40123</c>, once started.</summary>
    public Uri BaseUri => LocalEndPoint is IPEndPoint ip ? new Uri($"http://{ip}") : throw new InvalidOperationException("Not an IP endpoint.");

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="SocketException">Binding failed.</exception>
    public void Start() => _server.Start();

    /// <summary>Stops accepting, waits up to <paramref name="grace"/> for open connections, closes the rest.</summary>
    /// <param name="grace">How long to wait.</param>
    /// <returns>Completes when every connection is closed.</returns>
    public Task StopAsync(TimeSpan grace) => _server.StopAsync(grace);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        byte[] input = new byte[ReceiveBufferSize];
        int buffered = 0;
        var output = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                HttpParseStatus status = MiniHttp.TryParseRequestHead(input.AsSpan(0, buffered), out HttpRequestHead? head, out int consumed, out _);
                if (status == HttpParseStatus.NeedMoreData)
                {
                    int received = await connection.ReceiveAsync(input.AsMemory(buffered), cancellationToken);
                    if (received == 0)
                    {
                        return;
                    }

                    buffered += received;
                    continue;
                }

                bool keepAlive;
                if (status == HttpParseStatus.Done)
                {
                    keepAlive = _site.Respond(head!, output);
                    input.AsSpan(consumed, buffered - consumed).CopyTo(input);
                    buffered -= consumed;
                    RequestsServed++;
                }
                else
                {
                    MiniHttp.WriteError(output, status == HttpParseStatus.TooLarge ? 431 : 400, status == HttpParseStatus.TooLarge ? "Request Header Fields Too Large" : "Bad Request");
                    keepAlive = false;
                }

                await connection.SendAsync(output.WrittenMemory, cancellationToken);
                output.ResetWrittenCount();
                if (!keepAlive)
                {
                    connection.ShutdownSend();
                    return;
                }
            }
        }
        catch (SocketException)
        {
            // The client went away; only this connection ends.
        }
    }
}
