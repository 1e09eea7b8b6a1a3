using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Samples.Cache;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>
/// Runs a cache server on a fresh loop for one hostile-client test, then checks that the loop holds
/// nothing and that no descriptor the test opened is still open. Hostile clients are plain BCL
/// sockets on the thread pool (they can reset, half-close and stop reading); the server's
/// well-behaved clients are the loop's own <see cref="RespClient"/>.
/// </summary>
internal static class CacheFaultHarness
{
    /// <summary>A liveness bound only: each test finishes in well under a second on a quiet machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly IPEndPoint s_anyPort = new(IPAddress.Loopback, 0);

    public static void Run(Func<Loop, CacheServer, Task> body, int maxClients = ClientLimit.DefaultMaxClients)
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (var loop = new Loop())
        {
            loop.Run(async () =>
            {
                var server = new CacheServer(loop, s_anyPort) { MaxClients = maxClients };
                server.Start();
                try
                {
                    using (loop.FailAfter(Deadline))
                    {
                        await body(loop, server);
                    }
                }
                finally
                {
                    await server.StopAsync(TimeSpan.Zero);
                }
            });
            LoopAssert.NoLiveHandles(loop);
        }

        before.AssertOpenedSince(0);
    }

    /// <summary>A blocking BCL socket connected to the server (use it from <see cref="Task.Run(Func{Task})"/>).</summary>
    public static Socket ConnectRaw(EndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(server);
        return socket;
    }

    /// <summary>Closes with RST instead of FIN (<c>SO_LINGER</c> 0), like a client that crashed.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    /// <summary>Reads until the server closes; everything received, as Latin-1.</summary>
    public static string ReadToClose(Socket socket)
    {
        var text = new StringBuilder();
        ReadToClose(socket, text);
        return text.ToString();
    }

    /// <summary>
    /// On the thread pool: connects, sends <paramref name="request"/> (the server may close before
    /// taking all of it), optionally half-closes, and reads until the server closes. A reset (the
    /// server closed with input unread) ends the reading; what arrived before it is returned.
    /// </summary>
    public static Task<string> ExchangeAsync(EndPoint server, byte[] request, bool shutdownSend = false) => Task.Run(() =>
    {
        using Socket socket = ConnectRaw(server);
        var text = new StringBuilder();
        try
        {
            socket.Send(request);
            if (shutdownSend)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // The server closed mid-send (a protocol error): read what it said first.
        }

        try
        {
            ReadToClose(socket, text);
        }
        catch (SocketException)
        {
        }

        return text.ToString();
    });

    private static void ReadToClose(Socket socket, StringBuilder text)
    {
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            text.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (fewer only if the server closes first).</summary>
    public static string ReadExactly(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int read = 0;
        int n;
        while (read < count && (n = socket.Receive(buffer, read, count - read, SocketFlags.None)) > 0)
        {
            read += n;
        }

        return Encoding.Latin1.GetString(buffer, 0, read);
    }

    /// <summary>Asserts that a new, well-behaved client is served: connect, SET, GET.</summary>
    public static async Task AssertServesAsync(Loop loop, CacheServer server)
    {
        using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
        Assert.Equal("OK", (await client.CommandAsync("SET", "probe", "alive")).ToString());
        Assert.Equal("alive", (await client.CommandAsync("GET", "probe")).AsString());
    }

    /// <summary>Waits (loop time, in short sleeps) until <paramref name="condition"/> holds; the harness's deadline bounds it.</summary>
    public static async Task WaitUntilAsync(Loop loop, Func<bool> condition)
    {
        while (!condition())
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(5));
        }
    }

    public static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);
}
