using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventLoop.Tests.Samples.CommandLine;

/// <summary>
/// A peer for the fetch command, built on BCL sockets (not on the loop under test): a loopback
/// HTTP/1.1 server that answers GET with a body of a given size per path, 404 otherwise, one request
/// per connection. With <c>holdUntil</c> it answers nothing until that many requests have arrived,
/// which a client that fetched one URL after another could never achieve; or it resets every
/// connection once the request is read (<see cref="Resetting"/>).
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    // Liveness bound for a held request: long enough for any loaded machine, short enough that a
    // sequential client fails the test instead of hanging it.
    private static readonly TimeSpan s_holdBound = TimeSpan.FromSeconds(20);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IReadOnlyDictionary<string, int> _pages;
    private readonly bool _reset;
    private readonly int _holdUntil;
    private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _arrived;

    private LoopbackHttpServer(IReadOnlyDictionary<string, int> pages, bool reset, int holdUntil)
    {
        _pages = pages;
        _reset = reset;
        _holdUntil = holdUntil;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>True when the requests <c>holdUntil</c> waited for were all open at once.</summary>
    public bool AllArrivedTogether => _allArrived.Task.IsCompletedSuccessfully;

    /// <summary>Serves <paramref name="pages"/> (path → body length).</summary>
    public static LoopbackHttpServer Serving(IReadOnlyDictionary<string, int> pages, int holdUntil = 0) => new(pages, reset: false, holdUntil);

    /// <summary>Reads each request, then closes the connection with an RST (SO_LINGER 0).</summary>
    public static LoopbackHttpServer Resetting() => new(new Dictionary<string, int>(), reset: true, holdUntil: 0);

    public string Url(string path) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}{path}");

    /// <summary>A body of <paramref name="length"/> bytes; every page is this, so sizes are what a test checks.</summary>
    public static byte[] Body(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26)))];

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // The accept loop ends by its listener being stopped; how it ends is of no interest.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                Socket client = await _listener.AcceptSocketAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                string? path = await ReadRequestPathAsync(client);
                if (_reset)
                {
                    client.LingerState = new LingerOption(true, 0);
                    return;
                }

                if (_holdUntil > 0)
                {
                    if (Interlocked.Increment(ref _arrived) == _holdUntil)
                    {
                        _allArrived.TrySetResult();
                    }

                    await Task.WhenAny(_allArrived.Task, Task.Delay(s_holdBound, _stop.Token));
                }

                byte[] response = path is not null && _pages.TryGetValue(path, out int length)
                    ? Response("200 OK", Body(length))
                    : Response("404 Not Found", Encoding.ASCII.GetBytes("not found"));
                await client.SendAsync(response, SocketFlags.None, _stop.Token);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // The client went away or the server is stopping.
            }
        }
    }

    private async Task<string?> ReadRequestPathAsync(Socket client)
    {
        var head = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                return null;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        // "GET /path HTTP/1.1"
        string[] requestLine = head.ToString()[..head.ToString().IndexOf('\r', StringComparison.Ordinal)].Split(' ');
        return requestLine is ["GET", string path, _] ? path : null;
    }

    private static byte[] Response(string status, byte[] body) =>
        [.. Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: {body.Length}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"), .. body];
}
