using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// HttpClient over <see cref="LoopHttp.CreateHandler"/> against what a user takes for granted with
/// the default handler: keep-alive, concurrency, connection limits, chunked and streamed bodies,
/// a server closing an idle connection, refused connections, localhost, 100-continue, redirects,
/// timeouts, cancellation, and disposal of the client, or of the loop, mid-request.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class LoopHttpEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void TwoSequentialRequests_ToLocalhost_ReuseOneConnection()
    {
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => Response("ok"));
        LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop));
            var url = new Uri($"http://localhost:{server.Port}/");
            Assert.Equal("ok", await client.GetStringAsync(url));
            Assert.Equal("ok", await client.GetStringAsync(url));
        });
        LoopNet.AssertNoRegistrations(loop);
        Assert.Equal(1, server.Accepts);
    }

    [Fact]
    public void FiftyGreenlets_OneClient_AllSucceed_WithinMaxConnectionsPerServer()
    {
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (head, _) => Response(head.Split(' ')[1]));
        LoopNet.Run(loop, async () =>
        {
            SocketsHttpHandler handler = Handler(loop);
            handler.MaxConnectionsPerServer = 4;
            using var client = new HttpClient(handler);
            Greenlet<string>[] greenlets = Enumerable.Range(0, 50)
                .Select(i => loop.Spawn(async () => await client.GetStringAsync(new Uri(server.Url, $"/{i}"))))
                .ToArray();
            for (int i = 0; i < greenlets.Length; i++)
            {
                Assert.Equal($"/{i}", await greenlets[i]);
            }
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
        Assert.InRange(server.Accepts, 1, 4);
    }

    [Fact]
    public void ChunkedResponse_StreamedWithResponseHeadersRead_InAGreenlet()
    {
        const int chunks = 200;
        const int chunkSize = 32 * 1024;
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) =>
        {
            var output = new MemoryStream();
            output.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
            byte[] chunk = Enumerable.Repeat((byte)'c', chunkSize).ToArray();
            for (int i = 0; i < chunks; i++)
            {
                output.Write(Encoding.ASCII.GetBytes($"{chunkSize:x}\r\n"));
                output.Write(chunk);
                output.Write("\r\n"u8);
            }

            output.Write("0\r\n\r\n"u8);
            return output.ToArray();
        });
        long total = LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop));
            Greenlet<long> reader = loop.Spawn(async () =>
            {
                using HttpResponseMessage response = await client.GetAsync(server.Url, HttpCompletionOption.ResponseHeadersRead);
                await using Stream body = await response.Content.ReadAsStreamAsync();
                byte[] buffer = new byte[7000];
                long read = 0;
                int n;
                while ((n = await body.ReadAsync(buffer)) != 0)
                {
                    Assert.True(buffer.AsSpan(0, n).IndexOfAnyExcept((byte)'c') < 0);
                    read += n;
                }

                return read;
            });
            return await reader;
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
        Assert.Equal((long)chunks * chunkSize, total);
    }

    [Fact]
    public void ServerClosesIdleKeepAliveConnection_NextRequestSucceedsOnANewConnection()
    {
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => Response("ok"), requestsPerConnection: 1);
        LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop));
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal("ok", await client.GetStringAsync(server.Url));
                await server.WaitForClosesAsync(i + 1).WaitAsync(s_liveness);
            }
        });
        LoopNet.AssertNoRegistrations(loop);
        Assert.Equal(3, server.Accepts);
    }

    [Fact]
    public void ConnectionRefused_ThrowsHttpRequestException_WithTheSocketError()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop));
            HttpRequestException error = await Assert.ThrowsAsync<HttpRequestException>(
                () => client.GetAsync(new Uri($"http://127.0.0.1:{port}/")));
            Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
            Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ExpectContinue_AndRedirect_LargePost()
    {
        const int size = 2 * 1024 * 1024;
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (head, body) =>
            head.StartsWith("POST /old", StringComparison.Ordinal)
                ? Encoding.ASCII.GetBytes("HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n")
                : Response($"{head.Split(' ')[1]} {body.Length}"),
            expectContinue: true);
        LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop));
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Url, "/old"))
            {
                Content = new ByteArrayContent(new byte[size]),
            };
            request.Headers.ExpectContinue = true;
            using HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal($"/new {size}", await response.Content.ReadAsStringAsync());
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void HttpClientTimeout_AndCanceledToken_EndASilentRequest()
    {
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => null);
        LoopNet.Run(loop, async () =>
        {
            using var client = new HttpClient(Handler(loop)) { Timeout = TimeSpan.FromMilliseconds(300) };
            TaskCanceledException timeout = await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(server.Url));
            Assert.IsType<TimeoutException>(timeout.InnerException);

            client.CancelPendingRequests();
            using var client2 = new HttpClient(Handler(loop));
            using var cts = new CancellationTokenSource();
            Task<HttpResponseMessage> pending = client2.GetAsync(server.Url, cts.Token);
            await server.WaitForRequestsAsync(2).WaitAsync(s_liveness);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(s_liveness));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void DisposeClient_WithRequestsInFlight_EndsThemAndLeaksNoDescriptor()
    {
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => null);
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = LoopNet.Create())
        {
            LoopNet.Run(loop, async () =>
            {
                var client = new HttpClient(Handler(loop));
                Task[] requests = Enumerable.Range(0, 5).Select(_ => (Task)client.GetAsync(server.Url)).ToArray();
                await server.WaitForRequestsAsync(5).WaitAsync(s_liveness);
                client.Dispose();
                foreach (Task request in requests)
                {
                    await Assert.ThrowsAnyAsync<Exception>(() => request.WaitAsync(s_liveness));
                }

                for (int i = 0; i < 3; i++)
                {
                    await loop.Yield();
                }
            });
            LoopNet.AssertNoRegistrations(loop);
        }

        server.Dispose();
        DescriptorSnapshot after = DescriptorSnapshot.Take();
        Assert.True(after.Count <= before.Count, $"{after.Count - before.Count} descriptor(s) leaked");
    }

    [Fact]
    public void LoopDisposed_WhileAThreadPoolRequestReadsTheBody_TheReadFails()
    {
        // Headers, then a body that never comes: the request's read of it waits on the loop.
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"u8.ToArray());
        using Loop loop = LoopNet.Create();
        Thread runner = LoopNet.RunOnAnotherThread(loop);

        // No greenlet anywhere: HttpClient and the loop's stream meet on the thread pool. The probe
        // is posted behind the body read from the same thread, so once it ran the read waits.
        using var client = new HttpClient(Handler(loop));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> read = Task.Run(async () =>
        {
            using HttpResponseMessage response = await client.GetAsync(server.Url, HttpCompletionOption.ResponseHeadersRead);
            Stream body = await response.Content.ReadAsStreamAsync();
            ValueTask<int> pending = body.ReadAsync(new byte[100]);
            loop.Post(started.SetResult);
            return await pending;
        });
        Assert.Same(started.Task, Task.WhenAny(started.Task, read).WaitAsync(s_liveness).GetAwaiter().GetResult());
        Assert.False(read.IsCompleted);

        loop.Stop();
        Assert.True(runner.Join(s_liveness));
        loop.Dispose();

        Exception? error = Record.Exception(() => read.WaitAsync(s_liveness).GetAwaiter().GetResult());
        Assert.IsType<ObjectDisposedException>(error);
    }

    [Fact]
    public void LoopDisposed_WhileAThreadPoolRequestWaitsForTheResponse_TheRequestFails()
    {
        // A server that never answers. HttpClient's Timeout cannot end a read that the loop will
        // never complete (it disposes the stream, and nothing completes the read): the loop's disposal must.
        using var server = new TestHttpServer(IPAddress.Loopback, (_, _) => null);
        using Loop loop = LoopNet.Create();
        Thread runner = LoopNet.RunOnAnotherThread(loop);
        using var client = new HttpClient(Handler(loop));
        Task<HttpResponseMessage> request = Task.Run(() => client.GetAsync(server.Url));
        Task.WhenAny(server.WaitForRequestsAsync(1), request).WaitAsync(s_liveness).GetAwaiter().GetResult();
        Assert.False(request.IsCompleted);

        loop.Stop();
        Assert.True(runner.Join(s_liveness));
        loop.Dispose();

        // HttpClient wraps it (HttpRequestException around the stream's exception), as it does a reset.
        Exception? error = Record.Exception(() => request.WaitAsync(s_liveness).GetAwaiter().GetResult());
        Assert.IsType<HttpRequestException>(error);
        Assert.Contains(Chain(error), e => e is ObjectDisposedException);
    }

    [Fact]
    public void KillMidRequest_AnotherGreenletsQueuedRequest_GetsItsNewConnection()
    {
        // One connection per server: B's request waits in the pool behind A's. A's kill closes
        // A's connection, and the pool opens B's in A's ExecutionContext; that attempt must not
        // be the killed greenlet's loop wait (it failed at once, and B's request with it).
        using Loop loop = LoopNet.Create();
        using var server = new TestHttpServer(IPAddress.Loopback, (head, _) => head.Contains("/silent", StringComparison.Ordinal) ? null : Response("ok"));
        LoopNet.Run(loop, async () =>
        {
            SocketsHttpHandler handler = Handler(loop);
            handler.MaxConnectionsPerServer = 1;
            using var client = new HttpClient(handler);
            Greenlet a = loop.Spawn(async () => await client.GetAsync(new Uri(server.Url, "/silent")));
            await server.WaitForRequestsAsync(1).WaitAsync(s_liveness);
            Greenlet<string> b = loop.Spawn(async () => await client.GetStringAsync(server.Url));
            for (int i = 0; i < 5; i++)
            {
                await loop.Yield(); // B's request reaches the pool's queue
            }

            a.Kill();
            Assert.Equal("ok", await b.Task.WaitAsync(s_liveness));
            Assert.True(a.IsCompleted);
            Assert.False(a.Succeeded);
        });
        LoopNet.AssertNoRegistrations(loop);
        Assert.Equal(2, server.Accepts);
    }

    private static SocketsHttpHandler Handler(Loop loop)
    {
        SocketsHttpHandler handler = LoopHttp.CreateHandler(loop);
        handler.UseProxy = false;
        return handler;
    }

    private static IEnumerable<Exception> Chain(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            yield return error;
        }
    }

    private static byte[] Response(string body) =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\n\r\n{body}");

    /// <summary>
    /// A plain HTTP/1.1 server on the thread pool: reads a head and a Content-Length body, then
    /// writes what <c>respond</c> returns (null: never answers, holds the connection).
    /// </summary>
    private sealed class TestHttpServer : IDisposable
    {
        private readonly Socket _listener;
        private readonly Func<string, byte[], byte[]?> _respond;
        private readonly int _requestsPerConnection;
        private readonly bool _expectContinue;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _accepted = [];
        private int _accepts;
        private int _requests;
        private int _closes;

        public TestHttpServer(IPAddress address, Func<string, byte[], byte[]?> respond, int requestsPerConnection = int.MaxValue, bool expectContinue = false)
        {
            _respond = respond;
            _requestsPerConnection = requestsPerConnection;
            _expectContinue = expectContinue;
            _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(address, 0));
            _listener.Listen(128);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            Url = new Uri(address.AddressFamily == AddressFamily.InterNetworkV6 ? $"http://[::1]:{Port}/" : $"http://127.0.0.1:{Port}/");
            _ = Task.Run(AcceptLoopAsync);
        }

        public int Port { get; }

        public Uri Url { get; }

        public int Accepts => Volatile.Read(ref _accepts);

        public async Task WaitForRequestsAsync(int count)
        {
            while (Volatile.Read(ref _requests) < count)
            {
                await Task.Yield();
            }
        }

        public async Task WaitForClosesAsync(int count)
        {
            while (Volatile.Read(ref _closes) < count)
            {
                await Task.Yield();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            lock (_accepted)
            {
                foreach (Socket s in _accepted)
                {
                    s.Dispose();
                }
            }
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                Interlocked.Increment(ref _accepts);
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }

                _ = Task.Run(() => ServeAsync(socket));
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            try
            {
                var pending = new List<byte>();
                byte[] buffer = new byte[64 * 1024];
                for (int r = 0; r < _requestsPerConnection; r++)
                {
                    int headEnd;
                    while ((headEnd = IndexOfHeadEnd(pending)) < 0)
                    {
                        int n = await socket.ReceiveAsync(buffer, _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }

                        pending.AddRange(buffer.AsSpan(0, n));
                    }

                    string head = Encoding.ASCII.GetString(pending.GetRange(0, headEnd).ToArray());
                    pending.RemoveRange(0, headEnd + 4);
                    int length = 0;
                    foreach (string line in head.Split("\r\n"))
                    {
                        if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        {
                            length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }

                    if (_expectContinue && head.Contains("Expect: 100-continue", StringComparison.OrdinalIgnoreCase))
                    {
                        await socket.SendAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), _stop.Token);
                    }

                    Interlocked.Increment(ref _requests);
                    while (pending.Count < length)
                    {
                        int n = await socket.ReceiveAsync(buffer, _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }

                        pending.AddRange(buffer.AsSpan(0, n));
                    }

                    byte[] body = pending.GetRange(0, length).ToArray();
                    pending.RemoveRange(0, length);
                    byte[]? response = _respond(head, body);
                    if (response is null)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                        return;
                    }

                    await socket.SendAsync(response, _stop.Token);
                }
            }
            catch (Exception)
            {
                // The client went away or the server stopped.
            }
            finally
            {
                socket.Dispose();
                Interlocked.Increment(ref _closes);
            }
        }

        private static int IndexOfHeadEnd(List<byte> bytes)
        {
            for (int i = 0; i + 3 < bytes.Count; i++)
            {
                if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
