using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class StreamConnectionTests
{
    [Fact]
    public void ConnectAsync_IPv4_EchoesRoundTrip()
    {
        using Loop loop = LoopNet.Create();
        byte[] received = LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            Greenlet server = loop.Spawn(async () =>
            {
                using StreamConnection accepted = await listener.AcceptAsync();
                await LoopNet.EchoAsync(accepted);
            });

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            await client.SendAsync("hello"u8.ToArray());
            byte[] reply = new byte[5];
            await client.ReceiveExactlyAsync(reply);
            client.ShutdownSend();
            await server;
            Assert.Equal(0, await client.ReceiveAsync(new byte[1]));
            return reply;
        });

        Assert.Equal("hello"u8.ToArray(), received);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ConnectAsync_IPv6_EchoesRoundTrip()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }

        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            StreamListener listener;
            try
            {
                listener = loop.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            }
            catch (SocketException)
            {
                return; // IPv6 disabled on this host's loopback
            }

            using (listener)
            {
                Assert.Equal(AddressFamily.InterNetworkV6, listener.LocalEndPoint.AddressFamily);
                Greenlet server = loop.Spawn(async () =>
                {
                    using StreamConnection accepted = await listener.AcceptAsync();
                    await LoopNet.EchoAsync(accepted);
                });

                using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
                await client.SendAsync("v6"u8.ToArray());
                byte[] reply = new byte[2];
                await client.ReceiveExactlyAsync(reply);
                Assert.Equal("v6"u8.ToArray(), reply);
                client.ShutdownSend();
                await server;
            }
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ConnectAsync_DnsEndPointLocalhost_Connects()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)listener.LocalEndPoint).Port;
            Greenlet server = loop.Spawn(async () =>
            {
                using StreamConnection accepted = await listener.AcceptAsync();
                await LoopNet.EchoAsync(accepted);
            });

            using StreamConnection client = await loop.ConnectAsync(new DnsEndPoint("localhost", port, AddressFamily.InterNetwork));
            await client.SendAsync("dns"u8.ToArray());
            byte[] reply = new byte[3];
            await client.ReceiveExactlyAsync(reply);
            Assert.Equal("dns"u8.ToArray(), reply);
            client.ShutdownSend();
            await server;
        });
    }

    [Fact]
    public void ConnectAsync_ClosedPort_ThrowsConnectionRefused()
    {
        using Loop loop = LoopNet.Create();
        EndPoint closed;
        using (StreamListener probe = loop.Listen(LoopNet.AnyPort))
        {
            closed = probe.LocalEndPoint;
        }

        SocketException error = LoopNet.Run(loop, () => Assert.ThrowsAsync<SocketException>(() => loop.ConnectAsync(closed)));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void NoDelay_TcpConnection_OnByDefaultAndSettable()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            Assert.True(client.NoDelay);
            Assert.True(accepted.NoDelay);
            client.NoDelay = false;
            Assert.False(client.NoDelay);
            Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
            Assert.Equal(client.RemoteEndPoint, accepted.LocalEndPoint);
        });
    }

    [Fact]
    public void ReceiveAsync_DataAlreadyQueued_CompletesSynchronously()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        LoopNet.Run(loop, async () =>
        {
            // Unix domain sockets deliver inside send(2), so the data is queued when SendAsync returns.
            using StreamListener listener = loop.Listen(new UnixDomainSocketEndPoint(path));
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[16];

            // First wait for data the normal way (clears and then re-learns readiness).
            ValueTask<int> first = accepted.ReceiveAsync(buffer);
            Assert.False(first.IsCompleted);
            await client.SendAsync("one"u8.ToArray());
            Assert.Equal(3, await first);

            await client.SendAsync("two"u8.ToArray());
            ValueTask<int> second = accepted.ReceiveAsync(buffer);
            Assert.True(second.IsCompletedSuccessfully);
            Assert.Equal(3, second.Result);
        });
    }

    [Fact]
    public void ReceiveAsync_SecondConcurrentReceive_ThrowsInvalidOperation()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[8]);

            Assert.Throws<InvalidOperationException>(() => accepted.ReceiveAsync(new byte[8]));

            // A send may run beside the receive.
            await accepted.SendAsync("x"u8.ToArray());
            await client.SendAsync("y"u8.ToArray());
            Assert.Equal(1, await pending);
        });
    }

    [Fact]
    public void ReceiveAsync_Cancelled_ConnectionStaysUsable()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[8], cts.Token);
            loop.Post(cts.Cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

            await client.SendAsync("after"u8.ToArray());
            byte[] buffer = new byte[5];
            await accepted.ReceiveExactlyAsync(buffer);
            Assert.Equal("after"u8.ToArray(), buffer);
        });
    }

    [Fact]
    public void ReceiveAsync_CancelledFromAnotherThread_Completes()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[8], cts.Token);
            _ = Task.Run(cts.Cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        });
    }

    [Fact]
    public void Dispose_WithOperationsInFlight_CompletesThemWithObjectDisposed()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            StreamConnection accepted = await listener.AcceptAsync();
            ValueTask<int> receive = accepted.ReceiveAsync(new byte[8]);

            // Fill the send buffer so a send is left waiting too.
            byte[] big = new byte[16 * 1024 * 1024];
            ValueTask send = accepted.SendAsync(big);
            Assert.False(send.IsCompleted);

            accepted.Dispose();

            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await receive);
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await send);
            Assert.Throws<ObjectDisposedException>(() => accepted.ReceiveAsync(new byte[1]));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Kill_GreenletWaitingInReceive_ThrowsOperationCanceled()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            Exception? seen = null;
            Greenlet reader = loop.Spawn(async () =>
            {
                try
                {
                    await accepted.ReceiveAsync(new byte[8]);
                }
                catch (Exception ex)
                {
                    seen = ex;
                    throw;
                }
            });

            await loop.Yield();
            await loop.Yield();
            await reader.KillAsync();

            Assert.IsAssignableFrom<OperationCanceledException>(seen);
            Assert.IsAssignableFrom<OperationCanceledException>(reader.Exception);

            // The connection survives the kill.
            await client.SendAsync("z"u8.ToArray());
            Assert.Equal(1, await accepted.ReceiveAsync(new byte[8]));
        });
    }

    [Fact]
    public void Kill_GreenletWaitingInReceiveWithItsOwnToken_ThrowsOperationCanceled()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();

            // StreamServer's way: the body passes its greenlet's token to every operation.
            Greenlet reader = loop.Spawn(async token => await accepted.ReceiveAsync(Memory<byte>.Empty, token));
            await loop.Yield();
            await loop.Yield();
            Assert.False(reader.IsCompleted);
            await reader.KillAsync();

            Assert.IsAssignableFrom<OperationCanceledException>(reader.Exception);
            await client.SendAsync("z"u8.ToArray());
            Assert.Equal(1, await accepted.ReceiveAsync(new byte[8]));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_FourMiBUnderBackpressure_ArrivesIntact()
    {
        using Loop loop = LoopNet.Create();
        byte[] payload = new byte[4 * 1024 * 1024];
        new Random(42).NextBytes(payload);
        byte[] received = LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            Greenlet<byte[]> reader = loop.Spawn(async () =>
            {
                using StreamConnection accepted = await listener.AcceptAsync();
                var all = new MemoryStream();
                byte[] buffer = new byte[1000]; // small reads: the writer must wait for the reader
                int n;
                while ((n = await accepted.ReceiveAsync(buffer)) > 0)
                {
                    all.Write(buffer, 0, n);
                    if (all.Length % 64_000 == 0)
                    {
                        await loop.Yield();
                    }
                }

                return all.ToArray();
            });

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            LoopNet.LimitSendBuffer(client);
            ValueTask send = client.SendAsync(payload);
            Assert.False(send.IsCompleted); // 4 MiB does not fit the buffers: the send waits
            await send;
            client.ShutdownSend();
            return await reader;
        });

        Assert.Equal(payload.Length, received.Length);
        Assert.True(payload.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public void PeerReset_MidTransfer_FailsOnlyThatConnection()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection victimClient = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection victim = await listener.AcceptAsync();
            using StreamConnection otherClient = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection other = await listener.AcceptAsync();

            // The victim's server side is streaming when its peer aborts with RST.
            Greenlet<SocketException> writer = loop.Spawn(async () =>
            {
                byte[] chunk = new byte[256 * 1024];
                try
                {
                    while (true)
                    {
                        await victim.SendAsync(chunk);
                    }
                }
                catch (SocketException ex)
                {
                    return ex;
                }
            });

            await victimClient.ReceiveExactlyAsync(new byte[1024]);
            Assert.Equal(SocketError.Success, SocketPal.SetLinger(victimClient.Socket.Fd, true, 0));
            victimClient.Dispose();

            SocketException error = await writer;
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);

            // The other connection is untouched.
            await otherClient.SendAsync("ok"u8.ToArray());
            byte[] reply = new byte[2];
            await other.ReceiveExactlyAsync(reply);
            Assert.Equal("ok"u8.ToArray(), reply);
        });
    }

    [Fact]
    public void ReceiveAsync_PeerResets_ThrowsConnectionReset()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[8]);
            Assert.Equal(SocketError.Success, SocketPal.SetLinger(client.Socket.Fd, true, 0));
            client.Dispose();

            SocketException error = await Assert.ThrowsAsync<SocketException>(async () => await pending);
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        });
    }

    [Fact]
    public void ShutdownSend_HalfCloses_PeerSeesEndOfStreamAndCanStillReply()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            await client.SendAsync("req"u8.ToArray());
            client.ShutdownSend();

            byte[] request = await accepted.ReceiveToEndAsync();
            Assert.Equal("req"u8.ToArray(), request);
            await accepted.SendAsync("resp"u8.ToArray());
            accepted.ShutdownSend();

            Assert.Equal("resp"u8.ToArray(), await client.ReceiveToEndAsync());
        });
    }

    [Fact]
    public void ReceiveAsync_EmptyBuffer_WaitsForDataWithoutConsuming()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);
            Assert.False(zero.IsCompleted);
            await client.SendAsync("d"u8.ToArray());
            Assert.Equal(0, await zero);
            byte[] buffer = new byte[1];
            Assert.Equal(1, await accepted.ReceiveAsync(buffer));
            Assert.Equal((byte)'d', buffer[0]);
        });
    }

    [Fact]
    public void ReceiveAsync_EmptyBuffer_CompletesWhenPeerCloses_ThenReceiveSeesEnd()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);
            Assert.False(zero.IsCompleted);
            client.Dispose();
            Assert.Equal(0, await zero);
            Assert.Equal(0, await accepted.ReceiveAsync(new byte[8]));
        });
    }

    [Fact]
    public void ReceiveAsync_EmptyBufferAfterShortRead_WaitsForTheNextEdgeWithoutPeeking()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        LoopNet.Run(loop, async () =>
        {
            // Unix domain sockets deliver inside send(2), so the data is queued when SendAsync returns.
            using StreamListener listener = loop.Listen(new UnixDomainSocketEndPoint(path));
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[16];
            await client.SendAsync("one"u8.ToArray());
            Assert.Equal(3, await accepted.ReceiveAsync(buffer)); // short: the queue is drained

            await client.SendAsync("two"u8.ToArray());
            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);

            // No peek: the wait trusts the short read and completes on the edge "two" raised.
            Assert.False(zero.IsCompleted);
            Assert.Equal(0, await zero);
            ValueTask<int> data = accepted.ReceiveAsync(buffer);
            Assert.True(data.IsCompletedSuccessfully);
            Assert.Equal(3, data.Result);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReceiveAsync_EmptyBufferAfterShortRead_PeerClosedWithTheData_CompletesThenReceiveSeesEnd(bool unix)
    {
        using Loop loop = LoopNet.Create();
        EndPoint endpoint = unix ? new UnixDomainSocketEndPoint(LoopNet.TempSocketPath()) : LoopNet.AnyPort;
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(endpoint);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[16];
            ValueTask<int> first = accepted.ReceiveAsync(buffer);
            Assert.False(first.IsCompleted);

            // The data and the FIN go out together, so one event reports both and no edge follows.
            await client.SendAsync("last"u8.ToArray());
            client.ShutdownSend();
            Assert.Equal(4, await first); // short

            Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            Assert.Equal(0, await accepted.ReceiveAsync(buffer));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_AcceptedSideUnderBackpressure_CompletesWhenPeerReads()
    {
        using Loop loop = LoopNet.Create();
        byte[] payload = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        byte[] received = LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();

            // Accepted connections start registered for Read only: this wait must add Write.
            LoopNet.LimitSendBuffer(accepted);
            ValueTask send = accepted.SendAsync(payload);
            Assert.False(send.IsCompleted);
            Greenlet<byte[]> reader = loop.Spawn(() => client.ReceiveToEndAsync());
            await send;
            accepted.ShutdownSend();
            return await reader;
        });

        Assert.True(payload.AsSpan().SequenceEqual(received));
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReceiveAsync_EmptyBufferAfterShortRead_OnceASendWaited_StillSeesPeerClose()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            LoopNet.LimitSendBuffer(accepted);
            ValueTask send = accepted.SendAsync(new byte[4 * 1024 * 1024]);
            Assert.False(send.IsCompleted); // Write is now registered too
            Greenlet reader = loop.Spawn(() => client.ReceiveExactlyAsync(new byte[4 * 1024 * 1024]));
            await send;
            await reader;

            byte[] buffer = new byte[16];
            ValueTask<int> first = accepted.ReceiveAsync(buffer);
            await client.SendAsync("last"u8.ToArray());
            client.ShutdownSend();
            Assert.Equal(4, await first);

            Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            Assert.Equal(0, await accepted.ReceiveAsync(buffer));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Operations_OffTheLoopThread_Throw()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            Exception? error = await Task.Run(() => Record.Exception(() => client.ReceiveAsync(new byte[1])));
            Assert.IsType<InvalidOperationException>(error);
        });
    }
}
