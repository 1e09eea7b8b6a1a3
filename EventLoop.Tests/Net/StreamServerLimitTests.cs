using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// <see cref="StreamServer.MaxConnections"/>: a client beyond it is accepted, told, and closed at
/// once. These tests count descriptors or change the descriptor limit, so they run alone.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class StreamServerLimitTests
{
    private static readonly byte[] s_maxClients = "-ERR max number of clients reached\r\n"u8.ToArray();

    [Fact]
    public void MaxConnections_Reached_NextClientGetsRejectionAndEof_OthersKeepBeingServed_FreedSlotLetsNextIn()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = LoopNet.Create())
        {
            LoopNet.Run(loop, async () =>
            {
                await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct))
                {
                    MaxConnections = 2,
                    OnRejected = c => c.SendAsync(s_maxClients).AsTask(),
                };
                server.Start();
                StreamConnection first = await loop.ConnectAsync(server.LocalEndPoint);
                using StreamConnection second = await loop.ConnectAsync(server.LocalEndPoint);
                await AssertEchoesAsync(first);
                await AssertEchoesAsync(second);

                using (StreamConnection third = await loop.ConnectAsync(server.LocalEndPoint))
                {
                    Assert.Equal(s_maxClients, await third.ReceiveToEndAsync()); // the message, then EOF
                }

                Assert.Equal(1, server.RejectedCount);
                await AssertEchoesAsync(first);
                await AssertEchoesAsync(second);

                first.Dispose(); // its handler ends, the slot frees
                while (server.ConnectionCount > 1)
                {
                    await loop.Yield();
                }

                using StreamConnection fourth = await loop.ConnectAsync(server.LocalEndPoint);
                await AssertEchoesAsync(fourth);
                Assert.Equal(2, server.ConnectionCount);
                Assert.Equal(1, server.RejectedCount);
            });
            LoopNet.AssertNoRegistrations(loop);
        }

        before.AssertOpenedSince(0);
    }

    [Fact]
    public void MaxConnections_WithoutOnRejected_ClientIsClosedAtOnce()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = LoopNet.Create())
        {
            LoopNet.Run(loop, async () =>
            {
                await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct)) { MaxConnections = 1 };
                server.Start();
                using StreamConnection served = await loop.ConnectAsync(server.LocalEndPoint);
                await AssertEchoesAsync(served);

                using StreamConnection rejected = await loop.ConnectAsync(server.LocalEndPoint);
                Assert.Empty(await ReceiveToEndOrResetAsync(rejected));

                await AssertEchoesAsync(served);
                Assert.Equal(1, server.RejectedCount);
            });
        }

        before.AssertOpenedSince(0);
    }

    [Fact]
    public void OnRejected_ThatNeverFinishes_IsCutAtRejectTimeout()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = LoopNet.Create())
        {
            LoopNet.Run(loop, async () =>
            {
                bool killed = false;
                await using var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct))
                {
                    MaxConnections = 1,
                    RejectTimeout = TimeSpan.FromMilliseconds(50),
                    OnRejected = async c =>
                    {
                        await c.SendAsync(s_maxClients);
                        try
                        {
                            await loop.Sleep(Timeout.InfiniteTimeSpan); // a write to a client that never reads
                        }
                        catch (OperationCanceledException)
                        {
                            killed = true;
                            throw;
                        }
                    },
                };
                server.Start();
                using StreamConnection served = await loop.ConnectAsync(server.LocalEndPoint);
                await AssertEchoesAsync(served);

                using StreamConnection rejected = await loop.ConnectAsync(server.LocalEndPoint);
                Assert.Equal(s_maxClients, await rejected.ReceiveToEndAsync());

                Assert.True(killed);
                await AssertEchoesAsync(served);
            });
        }

        before.AssertOpenedSince(0);
    }

    [Fact]
    public void StopAsync_WhileRejecting_ClosesTheRejectedClient()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        using (Loop loop = LoopNet.Create())
        {
            LoopNet.Run(loop, async () =>
            {
                var rejecting = new LoopEvent(loop);
                var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct))
                {
                    MaxConnections = 1,
                    RejectTimeout = TimeSpan.FromHours(1),
                    OnRejected = async c =>
                    {
                        rejecting.Set();
                        await loop.Sleep(Timeout.InfiniteTimeSpan);
                    },
                };
                server.Start();
                using StreamConnection served = await loop.ConnectAsync(server.LocalEndPoint);
                await AssertEchoesAsync(served);
                using StreamConnection rejected = await loop.ConnectAsync(server.LocalEndPoint);
                await rejecting.WaitAsync();

                await server.StopAsync(TimeSpan.Zero);

                Assert.Empty(await rejected.ReceiveToEndAsync());
                Assert.Equal(0, server.ConnectionCount);
            });
            LoopNet.AssertNoRegistrations(loop);
        }

        before.AssertOpenedSince(0);
    }

    [Fact]
    public void DefaultMaxConnections_IsDescriptorLimitMinusReserve_AndTheDefault()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong original, out _));
        int atLowerLimit;
        try
        {
            Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(Math.Min(original, 4096)));
            atLowerLimit = StreamServer.DefaultMaxConnections;
        }
        finally
        {
            Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(original));
        }

        Assert.Equal((int)Math.Min(original, 4096) - StreamServer.ReservedDescriptors, atLowerLimit);
        using Loop loop = LoopNet.Create();
        var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => Task.CompletedTask);
        Assert.Equal(StreamServer.DefaultMaxConnections, server.MaxConnections);
    }

    private static async Task AssertEchoesAsync(StreamConnection connection)
    {
        await connection.SendAsync("ping"u8.ToArray());
        byte[] reply = new byte[4];
        await connection.ReceiveExactlyAsync(reply);
        Assert.Equal("ping"u8.ToArray(), reply);
    }

    // A client closed by the server before it sent anything reads EOF; had it sent, it could read a reset.
    private static async Task<byte[]> ReceiveToEndOrResetAsync(StreamConnection connection)
    {
        try
        {
            return await connection.ReceiveToEndAsync();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return [];
        }
    }
}
