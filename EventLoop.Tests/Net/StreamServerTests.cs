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
    public void MaxConnections_AtLimit_ExtraConnectionIsAcceptedAndClosedAtOnce()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using var server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                await LoopNet.EchoAsync(c, ct);
            })
            { MaxConnections = 2 };
            server.Start();
            var clients = new List<StreamConnection>();
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await loop.ConnectAsync(server.LocalEndPoint));
            }

            // The first two are served; the third is closed instead of waiting in the kernel's queue.
            for (int i = 0; i < 2; i++)
            {
                await clients[i].SendAsync("p"u8.ToArray());
                Assert.Equal(1, await clients[i].ReceiveAsync(new byte[1]));
            }

            Assert.Equal(0, await clients[2].ReceiveAsync(new byte[1]));
            Assert.Equal(2, server.ConnectionCount);

            clients[0].Dispose(); // a slot frees up: the next client is served
            while (server.ConnectionCount == 2)
            {
                await loop.Yield();
            }

            using StreamConnection next = await loop.ConnectAsync(server.LocalEndPoint);
            await next.SendAsync("p"u8.ToArray());
            Assert.Equal(1, await next.ReceiveAsync(new byte[1]));
            foreach (StreamConnection c in clients)
            {
                c.Dispose();
            }
        });
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
