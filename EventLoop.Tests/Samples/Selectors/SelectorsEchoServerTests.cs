using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Samples.Selectors;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples.Selectors;

/// <summary>
/// Real loopback clients, driven by the same loop through their own registrations, so nothing
/// blocks and nothing sleeps: each client reads its echo in a Read callback.
/// </summary>
public sealed class SelectorsEchoServerTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Clients_GetTheirBytesBack_AndTheServerLogsLikeThePythonOriginal()
    {
        using var loop = new Loop();
        var log = new StringWriter();
        using var server = new SelectorsEchoServer(loop, new IPEndPoint(IPAddress.Loopback, 0), log);
        string[] messages = ["first client", "second client says more", "third"];

        string[] echoes = loop.Run(async () =>
        {
            server.Start();
            var clients = messages.Select(m => new TestClient(loop, server.LocalEndPoint, Encoding.ASCII.GetBytes(m))).ToArray();
            try
            {
                var all = Task.WhenAll(clients.Select(c => c.Echo.Task));
                await WithinBound(loop, all);
                foreach (TestClient client in clients)
                {
                    client.HalfClose();
                }

                await WithinBound(loop, Task.WhenAll(clients.Select(c => c.Closed.Task)));
                return clients.Select(c => Encoding.ASCII.GetString(c.Echo.Task.Result)).ToArray();
            }
            finally
            {
                foreach (TestClient client in clients)
                {
                    client.Dispose();
                }
            }
        });

        Assert.Equal(messages, echoes);
        Assert.Equal(3, server.AcceptedCount);
        Assert.Equal(0, server.ConnectionCount);
        Assert.Equal(messages.Sum(m => m.Length), server.BytesEchoed);
        string[] lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith("accepted 127.0.0.1:", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.StartsWith("closing 127.0.0.1:", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("echoing 23 bytes to 127.0.0.1:", StringComparison.Ordinal));
        server.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void SlowReader_LargeEcho_IsBufferedAndFlushedCompletely()
    {
        // 8 MiB is more than the socket buffers hold, so the server must hit partial sends and
        // switch to Write interest while the client keeps writing and reading.
        using var loop = new Loop();
        using var server = new SelectorsEchoServer(loop, new IPEndPoint(IPAddress.Loopback, 0), log: null);
        byte[] payload = new byte[8 * 1024 * 1024];
        new Random(5).NextBytes(payload);

        byte[] echo = loop.Run(async () =>
        {
            server.Start();
            using var client = new TestClient(loop, server.LocalEndPoint, payload);
            return await WithinBound(loop, client.Echo.Task);
        });

        Assert.True(payload.AsSpan().SequenceEqual(echo));
        server.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Constructor_PortInUse_ThrowsAddressAlreadyInUse()
    {
        using var loop = new Loop();
        using var first = new SelectorsEchoServer(loop, new IPEndPoint(IPAddress.Loopback, 0), null);

        var ex = Assert.Throws<SocketException>(() => new SelectorsEchoServer(loop, first.LocalEndPoint, null));

        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
    }

    [Fact]
    public void Dispose_WithOpenConnections_ClosesThemAndUnregisters()
    {
        using var loop = new Loop();
        var server = new SelectorsEchoServer(loop, new IPEndPoint(IPAddress.Loopback, 0), null);
        loop.Run(async () =>
        {
            server.Start();
            using var client = new TestClient(loop, server.LocalEndPoint, "x"u8.ToArray());
            await WithinBound(loop, client.Echo.Task);
            Assert.Equal(1, server.ConnectionCount);
            server.Dispose();
            await WithinBound(loop, client.Closed.Task);
        });

        Assert.Equal(0, server.ConnectionCount);
        LoopAssert.NoLiveHandles(loop);
    }

    private static async Task<T> WithinBound<T>(Loop loop, Task<T> task)
    {
        await WithinBound(loop, (Task)task);
        return await task;
    }

    private static async Task WithinBound(Loop loop, Task task)
    {
        using var cts = new CancellationTokenSource();
        Task timeout = loop.Sleep(s_bound, cts.Token).AsTask();
        Task first = await Task.WhenAny(task, timeout);
        await cts.CancelAsync();
        Assert.True(first == task, "timed out");
        await task;
        try
        {
            await timeout;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A non-blocking client on the loop: sends its payload, collects the echo, notices the close.</summary>
    private sealed class TestClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly IoRegistration _registration;
        private readonly byte[] _payload;
        private readonly byte[] _received;
        private int _sent;
        private int _filled;

        public TestClient(Loop loop, IPEndPoint server, byte[] payload)
        {
            _payload = payload;
            _received = new byte[payload.Length];
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

            // Loopback connects complete within the call (the kernel finishes the handshake); only then go non-blocking.
            _socket.Connect(server);
            _socket.Blocking = false;
            // Read and write together: the server stops reading while its echo is unsent (as the
            // selectors original does), so a client that reads only after sending everything
            // would deadlock once the kernel's buffers are full.
            _registration = loop.Register(_socket, IoEvents.Read | IoEvents.Write, (_, events) => OnReady(events));
        }

        public TaskCompletionSource<byte[]> Echo { get; } = new();

        public TaskCompletionSource Closed { get; } = new();

        public void HalfClose() => _socket.Shutdown(SocketShutdown.Send);

        public void Dispose()
        {
            _registration.Dispose();
            _socket.Dispose();
        }

        private void OnReady(IoEvents events)
        {
            if ((events & IoEvents.Write) != 0 && _sent < _payload.Length)
            {
                int n = _socket.Send(_payload.AsSpan(_sent), SocketFlags.None, out SocketError error);
                if (error == SocketError.Success)
                {
                    _sent += n;
                }

                if (_sent == _payload.Length)
                {
                    _registration.Update(IoEvents.Read);
                }
            }

            if ((events & IoEvents.Read) != 0)
            {
                Span<byte> scratch = stackalloc byte[1];
                Span<byte> into = _filled < _received.Length ? _received.AsSpan(_filled) : scratch;
                int n = _socket.Receive(into, SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }

                if (error != SocketError.Success || n == 0)
                {
                    _registration.Update(IoEvents.None);
                    Closed.TrySetResult();
                    Echo.TrySetException(new EndOfStreamException("closed before the whole echo"));
                    return;
                }

                _filled += _filled < _received.Length ? n : 0;
                if (_filled == _received.Length)
                {
                    Echo.TrySetResult(_received);
                }
            }
        }
    }
}
