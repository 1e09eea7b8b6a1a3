using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class StreamServerTests
{
    [Fact]
    public void Start_FiveHundredConcurrentClients_TwentyMessagesEach_AllEchoed()
    {
        const int Clients = 500;
        const int Messages = 20;
        using Loop loop = LoopNet.Create();
        int echoed = LoopNet.Run(loop, async () =>
        {
            await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct));
            server.Start();
            int total = 0;
            var clients = new List<Greenlet>();
            for (int i = 0; i < Clients; i++)
            {
                int id = i;
                clients.Add(loop.Spawn(async () =>
                {
                    using StreamConnection c = await loop.ConnectAsync(server.LocalEndPoint);
                    byte[] reply = new byte[8];
                    for (int m = 0; m < Messages; m++)
                    {
                        byte[] message = BitConverter.GetBytes(((long)id << 32) | (uint)m);
                        await c.SendAsync(message);
                        await c.ReceiveExactlyAsync(reply);
                        Assert.Equal(message, reply);
                        total++;
                    }
                }));
            }

            await loop.JoinAllAsync(clients, raiseError: true);
            await server.StopAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, server.ConnectionCount);
            return total;
        }, seconds: 60);

        Assert.Equal(Clients * Messages, echoed);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Handler_OfATcpPeerThatResetBeforeTheNameWasRead_IsNotNamedAsAUnixSocket()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            var started = new LoopEvent(loop);
            var resetSeen = new LoopEvent(loop);
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                started.Set();
                // The kernel may take the reset in after the client's close returns: wait until
                // this side has seen it, so the name lookup below finds the peer gone.
                await Assert.ThrowsAsync<SocketException>(async () => await c.ReceiveAsync(new byte[1], ct));
                resetSeen.Set();
                await loop.Sleep(Timeout.InfiniteTimeSpan, ct);
            });
            server.Start();
            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await client.ConnectAsync(server.LocalEndPoint);
                await started.WaitAsync();
                client.LingerState = new LingerOption(true, 0); // close sends a reset
            }

            Assert.True(await resetSeen.WaitAsync(TimeSpan.FromSeconds(30)));

            GreenletInfo handler = Assert.Single(loop.GetGreenlets(), g => g.Name.StartsWith("tcp:", StringComparison.Ordinal) || g.Name.StartsWith("unix:", StringComparison.Ordinal));
            Assert.Equal("tcp:(peer gone)", handler.Name);
        });
    }

    [Fact]
    public void Handler_GreenletIsNamedAfterPeer_AndConnectionClosesWhenHandlerEnds()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            string? name = null;
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                name = Greenlet.Current!.Name;
                await c.SendAsync("bye"u8.ToArray(), ct);
            });
            server.Start();
            using StreamConnection client = await loop.ConnectAsync(server.LocalEndPoint);

            Assert.Equal("bye"u8.ToArray(), await client.ReceiveToEndAsync()); // EOF: the server closed it
            Assert.Equal(client.LocalEndPoint!.ToString(), name);
        });
    }

    [Fact]
    public void StopAsync_HandlerThatWillNotFinish_IsKilledAfterGrace()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            int finished = 0, killed = 0;
            var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                byte[] buffer = new byte[16];
                if (await c.ReceiveAsync(buffer, ct) == 1 && buffer[0] == (byte)'q')
                {
                    finished++;
                    return; // the polite handler
                }

                try
                {
                    await loop.Sleep(Timeout.InfiniteTimeSpan, ct); // the stubborn one
                }
                catch (OperationCanceledException)
                {
                    killed++;
                    throw;
                }
            });
            server.Start();
            EndPoint endPoint = server.LocalEndPoint;
            using StreamConnection polite = await loop.ConnectAsync(endPoint);
            using StreamConnection stubborn = await loop.ConnectAsync(endPoint);
            await stubborn.SendAsync("stay"u8.ToArray());
            while (server.ConnectionCount < 2)
            {
                await loop.Yield();
            }

            Task stop = server.StopAsync(TimeSpan.FromMilliseconds(200));
            await polite.SendAsync("q"u8.ToArray());
            await stop;

            Assert.Equal(1, finished);
            Assert.Equal(1, killed);
            Assert.Equal(0, server.ConnectionCount);
            Assert.Equal(0, await stubborn.ReceiveAsync(new byte[1])); // its connection was closed
            await Assert.ThrowsAsync<SocketException>(() => loop.ConnectAsync(endPoint)); // no longer listening
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Pool_Full_AcceptingPausesAndResumes()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            int maxSeen = 0;
            var pool = new GreenletPool(loop, 2);
            await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct), pool);
            Assert.Same(pool, server.Group);
            server.Start();
            var clients = new List<StreamConnection>();
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await loop.ConnectAsync(server.LocalEndPoint));
            }

            // The first two are served; the third waits in the kernel's queue.
            for (int i = 0; i < 2; i++)
            {
                await clients[i].SendAsync("p"u8.ToArray());
                Assert.Equal(1, await clients[i].ReceiveAsync(new byte[1]));
            }

            await clients[2].SendAsync("p"u8.ToArray());
            ValueTask<int> third = clients[2].ReceiveAsync(new byte[1]);
            for (int i = 0; i < 20; i++)
            {
                await loop.Yield();
                maxSeen = Math.Max(maxSeen, server.ConnectionCount);
            }

            Assert.False(third.IsCompleted);
            Assert.Equal(2, maxSeen);
            Assert.Equal(0, server.RejectedCount);

            clients[0].Dispose(); // a slot frees up: the third is accepted and echoed
            Assert.Equal(1, await third);
            foreach (StreamConnection c in clients)
            {
                c.Dispose();
            }
        });
    }

    [Fact]
    public void SharedGroup_StopAsync_KillsTheGroup_ConnectionCountIsTheServers()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            var group = new GreenletGroup(loop);
            Greenlet other = group.Spawn(() => loop.Sleep(Timeout.InfiniteTimeSpan).AsTask());
            var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => loop.Sleep(Timeout.InfiniteTimeSpan, ct).AsTask(), group);
            server.Start();
            using StreamConnection client = await loop.ConnectAsync(server.LocalEndPoint);
            while (server.ConnectionCount < 1)
            {
                await loop.Yield();
            }

            Assert.Equal(2, group.Count);
            await server.StopAsync(TimeSpan.Zero);

            Assert.Equal(0, server.ConnectionCount);
            Assert.Empty(group);
            Assert.True(other.IsKilled);
            Assert.Equal(0, await client.ReceiveAsync(new byte[1]));
        });
    }

    [Fact]
    public void Constructor_GroupOfAnotherLoop_Throws()
    {
        using Loop loop = LoopNet.Create();
        using Loop other = LoopNet.Create();
        Assert.Throws<ArgumentException>(() => new StreamServer(loop, LoopNet.AnyPort, (c, ct) => Task.CompletedTask, new GreenletGroup(other)));
    }

    [Fact]
    public void Handler_Throws_IsReportedAndOnlyItsConnectionCloses()
    {
        var unhandled = new List<Exception>();
        using Loop loop = LoopNet.Create(unhandled);
        LoopNet.Run(loop, async () =>
        {
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                byte[] buffer = new byte[1];
                await c.ReceiveExactlyAsync(buffer);
                if (buffer[0] == (byte)'!')
                {
                    throw new InvalidDataException("boom");
                }

                await c.SendAsync(buffer, ct);
                await LoopNet.EchoAsync(c, ct);
            });
            server.Start();
            using StreamConnection good = await loop.ConnectAsync(server.LocalEndPoint);
            using StreamConnection bad = await loop.ConnectAsync(server.LocalEndPoint);
            await bad.SendAsync("!"u8.ToArray());
            Assert.Equal(0, await bad.ReceiveAsync(new byte[1]));

            await good.SendAsync("ab"u8.ToArray());
            byte[] reply = new byte[2];
            await good.ReceiveExactlyAsync(reply);
            Assert.Equal("ab"u8.ToArray(), reply);
        });

        Assert.Contains(unhandled, e => e is InvalidDataException { Message: "boom" });
    }

    [Fact]
    public void HttpClient_GetThroughLoopHandler_ReadsResponseFromLoopServer()
    {
        using Loop loop = LoopNet.Create();
        (string Body, int Requests) result = LoopNet.Run(loop, async () =>
        {
            int requests = 0;
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                Stream stream = c.AsStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                string? requestLine = await reader.ReadLineAsync(ct);
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync(ct)))
                {
                }

                requests++;
                string body = $"hello from the loop: {requestLine}";
                byte[] response = Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
                await c.SendAsync(response, ct);
            });
            server.Start();
            int port = ((IPEndPoint)server.LocalEndPoint).Port;

            SocketsHttpHandler handler = LoopHttp.CreateHandler(loop);
            handler.UseProxy = false;
            using var client = new HttpClient(handler);
            string body = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/path"));
            return (body, requests);
        });

        Assert.Equal("hello from the loop: GET /path HTTP/1.1", result.Body);
        Assert.Equal(1, result.Requests);
    }

    [Fact]
    public void StopAsync_FromAnotherThread_StopsServer()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => loop.Sleep(Timeout.InfiniteTimeSpan, ct).AsTask());
            server.Start();
            using StreamConnection client = await loop.ConnectAsync(server.LocalEndPoint);
            while (server.ConnectionCount < 1)
            {
                await loop.Yield();
            }

            await Task.Run(() => server.StopAsync(TimeSpan.Zero));
            Assert.Equal(0, server.ConnectionCount);
        });
    }
}
