using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>Corner cases of the network layer, each once a defect: Unix socket files, sends around shutdown and close, off-thread calls, transfers in both directions.</summary>
public sealed class NetEdgeCaseTests
{
    [Fact]
    public void Listen_UnixPathIsARegularFile_LeavesTheFileAndThrowsAddressInUse()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        File.WriteAllText(path, "precious");
        try
        {
            LoopNet.Run(loop, () =>
            {
                SocketException error = Assert.Throws<SocketException>(() => loop.Listen(new UnixDomainSocketEndPoint(path)));
                Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
                return Task.CompletedTask;
            });
            Assert.True(File.Exists(path), "Listen deleted a regular file that was not a socket");
            Assert.Equal("precious", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }

        LoopNet.AssertNoRegistrations(loop);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReceiveAsync_AfterEndOfStream_ReturnsZeroEveryTime(bool zeroByteFirst)
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            await client.SendAsync("bye"u8.ToArray());
            client.ShutdownSend();
            if (zeroByteFirst)
            {
                Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            }

            byte[] buffer = new byte[16];
            int total = 0;
            int n;
            while ((n = await accepted.ReceiveAsync(buffer.AsMemory(total))) > 0)
            {
                total += n;
            }

            Assert.Equal(3, total);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(0, await accepted.ReceiveAsync(buffer));
                Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
                Assert.Equal(0, await accepted.AsStream().ReadAsync(buffer));
            }
        });
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ConcurrentReceiveAndSend_BothWaysAtOnce_EverythingArrivesIntact(bool unix, bool zeroByteWaits)
    {
        const int size = 6 * 1024 * 1024;
        using Loop loop = LoopNet.Create();
        string? path = unix ? LoopNet.TempSocketPath() : null;
        EndPoint endpoint = unix ? new UnixDomainSocketEndPoint(path!) : LoopNet.AnyPort;
        byte[] a = new byte[size];
        byte[] b = new byte[size];
        new Random(1).NextBytes(a);
        new Random(2).NextBytes(b);
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(endpoint);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();

            static async Task SendInChunks(StreamConnection c, byte[] data, int chunk)
            {
                for (int offset = 0; offset < data.Length; offset += chunk)
                {
                    await c.SendAsync(data.AsMemory(offset, Math.Min(chunk, data.Length - offset)));
                }

                c.ShutdownSend();
            }

            async Task<byte[]> ReadAll(StreamConnection c)
            {
                if (!zeroByteWaits)
                {
                    return await c.ReceiveToEndAsync();
                }

                // The echo sample's quiet mode: wait holding no buffer, then take what is there.
                var all = new MemoryStream();
                byte[] buffer = new byte[3000];
                while (true)
                {
                    await c.ReceiveAsync(Memory<byte>.Empty);
                    int n = await c.ReceiveAsync(buffer);
                    if (n == 0)
                    {
                        return all.ToArray();
                    }

                    all.Write(buffer, 0, n);
                }
            }

            Greenlet<byte[]> clientReads = loop.Spawn(() => ReadAll(client));
            Greenlet<byte[]> serverReads = loop.Spawn(() => ReadAll(accepted));
            Greenlet clientWrites = loop.Spawn(() => SendInChunks(client, a, 1000));
            Greenlet serverWrites = loop.Spawn(() => SendInChunks(accepted, b, 1024 * 1024));
            await loop.JoinAllAsync([clientReads, serverReads, clientWrites, serverWrites], raiseError: true);
            byte[] atServer = await serverReads;
            byte[] atClient = await clientReads;
            Assert.True(a.AsSpan().SequenceEqual(atServer), "client to server");
            Assert.True(b.AsSpan().SequenceEqual(atClient), "server to client");
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_Completed_PeerGetsTheDataWithoutTheLoopRunningAgain()
    {
        // SendAsync completes "when every byte is with the kernel": a plain socket on the other
        // end must then be able to read it while nobody runs the loop.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using Loop loop = LoopNet.Create();
        StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint!));
        using Socket peer = listener.Accept();
        peer.ReceiveTimeout = 10_000;
        LoopNet.Run(loop, async () => await client.SendAsync("hello"u8.ToArray()));

        byte[] buffer = new byte[16];
        int n;
        try
        {
            n = peer.Receive(buffer);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            n = -1;
        }

        Assert.Equal(5, n);
        LoopNet.Run(loop, () =>
        {
            client.Dispose();
            return Task.CompletedTask;
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_ThenLoopDisposed_PeerGetsTheDataAndEndOfStream()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var loop = LoopNet.Create();
        StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint!));
        using Socket peer = listener.Accept();
        peer.ReceiveTimeout = 10_000;
        LoopNet.Run(loop, async () =>
        {
            await client.SendAsync("hello"u8.ToArray());
            client.ShutdownSend();
        });
        loop.Dispose();

        var all = new MemoryStream();
        byte[] buffer = new byte[16];
        int n;
        while ((n = peer.Receive(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        Assert.Equal("hello", Encoding.ASCII.GetString(all.ToArray()));
    }

    [Fact]
    public void BindDatagram_UnixPath_RemovesTheSocketFileOnDispose_AndThePathCanBeBoundAgain()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        try
        {
            LoopNet.Run(loop, () =>
            {
                using (DatagramSocket first = loop.BindDatagram(new UnixDomainSocketEndPoint(path)))
                {
                    Assert.True(File.Exists(path));
                }

                Assert.False(File.Exists(path), "the datagram socket's file was left behind");
                using DatagramSocket second = loop.BindDatagram(new UnixDomainSocketEndPoint(path));
                return Task.CompletedTask;
            });
        }
        finally
        {
            File.Delete(path);
        }

        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_AfterShutdownSend_Throws()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            await client.SendAsync("one"u8.ToArray());
            client.ShutdownSend();
            SocketException error = await Assert.ThrowsAsync<SocketException>(async () => await client.SendAsync("two"u8.ToArray()));
            Assert.Equal(SocketError.Shutdown, error.SocketErrorCode);
            byte[] all = await accepted.ReceiveToEndAsync();
            Assert.Equal("one", Encoding.ASCII.GetString(all));
        });
    }

    [Fact]
    public void StreamServer_UnixEndpoint_StopRemovesTheSocketFile_AndRefusesNewClientsDuringGrace()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        LoopNet.Run(loop, async () =>
        {
            var release = new TaskCompletionSource();
            var server = new StreamServer(loop, new UnixDomainSocketEndPoint(path), async (c, ct) =>
            {
                await c.SendAsync("hi"u8.ToArray(), ct);
                await release.Task;
            });
            server.Start();
            Assert.True(File.Exists(path));
            using StreamConnection client = await loop.ConnectAsync(server.LocalEndPoint);
            byte[] hi = new byte[2];
            await client.ReceiveExactlyAsync(hi);
            Task stop = server.StopAsync(TimeSpan.FromSeconds(20));
            await loop.Sleep(TimeSpan.Zero);
            Assert.False(stop.IsCompleted);
            await Assert.ThrowsAnyAsync<SocketException>(() => loop.ConnectAsync(new UnixDomainSocketEndPoint(path)));
            release.SetResult();
            await stop;
            Assert.Equal(0, await client.ReceiveAsync(new byte[4]));
            Assert.False(File.Exists(path));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void AsStream_DisposedFromAnotherThread_CanReadIsFalseOnceDisposeReturns()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream stream = client.AsStream();
            (bool canRead, bool canWrite) = await Task.Run(() =>
            {
                stream.Dispose();
                return (stream.CanRead, stream.CanWrite);
            });
            Assert.False(canRead);
            Assert.False(canWrite);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bind_StaleUnixSocketFile_IsReplaced_ALiveOneIsNot(bool datagram)
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        SocketType type = datagram ? SocketType.Dgram : SocketType.Stream;
        Assert.Equal(SocketError.Success, SocketPal.CreateSocket(AddressFamily.Unix, type, out int stale));
        Assert.Equal(SocketError.Success, SocketPal.Bind(stale, new UnixDomainSocketEndPoint(path)));
        Assert.Equal(SocketError.Success, SocketPal.Close(stale));
        try
        {
            LoopNet.Run(loop, () =>
            {
                var endpoint = new UnixDomainSocketEndPoint(path);
                using IDisposable live = datagram ? loop.BindDatagram(endpoint) : loop.Listen(endpoint);
                SocketException error = Assert.Throws<SocketException>(() => datagram ? (IDisposable)loop.BindDatagram(endpoint) : loop.Listen(endpoint));
                Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
                return Task.CompletedTask;
            });
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }

        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ShutdownSend_OffTheLoopThread_ThrowsInvalidOperation()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            await client.SendAsync("x"u8.ToArray());
            Exception? error = await Task.Run(() => Record.Exception(client.ShutdownSend));
            Assert.IsType<InvalidOperationException>(error);
        });
    }

    [Fact]
    public void HttpClient_LargePostAndLargeResponse_KeepAlive_ThroughTheLoop()
    {
        const int requestSize = 3 * 1024 * 1024;
        const int responseSize = 5 * 1024 * 1024;
        using Loop loop = LoopNet.Create();
        (long Received, int Length, int Requests) result = LoopNet.Run(loop, async () =>
        {
            long received = 0;
            int requests = 0;
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                Stream stream = c.AsStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                byte[] body = new byte[responseSize];
                Array.Fill(body, (byte)'a');
                for (int r = 0; r < 2; r++)
                {
                    // Headers are read by the StreamReader, which may read ahead into the body: count its chars too.
                    string? line = await reader.ReadLineAsync(ct);
                    if (line is null)
                    {
                        return;
                    }

                    int length = 0;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(ct)))
                    {
                        if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        {
                            length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }

                    char[] chunk = new char[64 * 1024];
                    int got = 0;
                    while (got < length)
                    {
                        int n = await reader.ReadAsync(chunk.AsMemory(0, Math.Min(chunk.Length, length - got)), ct);
                        Assert.NotEqual(0, n);
                        got += n;
                    }

                    received += got;
                    requests++;
                    await c.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {responseSize}\r\n\r\n"), ct);
                    await c.SendAsync(body, ct);
                }
            });
            server.Start();
            int port = ((IPEndPoint)server.LocalEndPoint).Port;
            SocketsHttpHandler handler = LoopHttp.CreateHandler(loop);
            handler.UseProxy = false;
            using var client = new HttpClient(handler);
            int length = 0;
            for (int i = 0; i < 2; i++)
            {
                using var content = new ByteArrayContent(Enumerable.Repeat((byte)'q', requestSize).ToArray());
                using HttpResponseMessage response = await client.PostAsync(new Uri($"http://127.0.0.1:{port}/up"), content);
                byte[] bytes = await response.Content.ReadAsByteArrayAsync();
                Assert.True(bytes.All(b => b == (byte)'a'));
                length += bytes.Length;
            }

            return (received, length, requests);
        }, seconds: 60);
        Assert.Equal(2L * requestSize, result.Received);
        Assert.Equal(2 * responseSize, result.Length);
        Assert.Equal(2, result.Requests);
    }

    [Fact]
    public void SendAsync_SmallSendsFromTwoGreenlets_WithRoomInTheBuffer_NeitherSeesAnotherSendInFlight()
    {
        // Two writers on one connection (a reply writer and a heartbeat): with room in the send
        // buffer every send completes at once on epoll and poll, so they never overlap.
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            async Task Writer(byte b)
            {
                for (int i = 0; i < 20; i++)
                {
                    await client.SendAsync(new[] { b });
                }
            }

            Greenlet first = loop.Spawn(() => Writer((byte)'a'));
            Greenlet second = loop.Spawn(() => Writer((byte)'b'));
            await loop.JoinAllAsync([first, second], raiseError: true);
            client.ShutdownSend();
            Assert.Equal(new string('a', 20) + new string('b', 20), Encoding.ASCII.GetString(await accepted.ReceiveToEndAsync()));
        });
    }

    [Fact]
    public void SendAsync_SmallSendsInOneStep_ThenDispose_PeerGetsEveryByteInOrder()
    {
        // On io_uring the later sends join the copy still queued for the first: disposing the
        // connection right after must lose none of them, as on epoll.
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            var expected = new StringBuilder();
            for (int i = 0; i < 300; i++)
            {
                string piece = $"{i},"; // 300 sends, 1,190 bytes, past the first copy's size
                expected.Append(piece);
                await client.SendAsync(Encoding.ASCII.GetBytes(piece));
            }

            client.Dispose();
            Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(await accepted.ReceiveToEndAsync()));
        });
    }
}
