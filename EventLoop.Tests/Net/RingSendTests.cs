using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// StreamConnection.SendAsync on the io_uring back end, where a small send is copied to the ring
/// and completes at once: order, half-close, close and failures behave as on epoll. Each test
/// returns at once where the loop has no <see cref="Loop.CompletionIo"/>.
/// </summary>
public sealed class RingSendTests
{
    [Fact]
    public void SmallSend_CompletesAtOnce_AndReachesThePeer()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            ValueTask send = client.SendAsync("hello"u8.ToArray());
            Assert.True(send.IsCompletedSuccessfully);
            Assert.Equal(1, loop.CompletionIo!.InFlight); // queued on the ring, not yet with the kernel
            byte[] buffer = new byte[5];
            await accepted.ReceiveExactlyAsync(buffer);
            Assert.Equal("hello"u8.ToArray(), buffer);
        });
    }

    [Fact]
    public void BackToBackSends_OfMixedSizes_ArriveInOrder()
    {
        using Loop? loop = RingNet.CreateLoop();
        if (loop is null)
        {
            return;
        }

        var random = new Random(13);
        var chunks = new List<byte[]>();
        for (int i = 0; i < 200; i++)
        {
            byte[] chunk = new byte[random.Next(1, i % 10 == 0 ? 200_000 : 3_000)];
            random.NextBytes(chunk);
            chunks.Add(chunk);
        }

        byte[] expected = chunks.SelectMany(c => c).ToArray();
        byte[] received = LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await LoopNet.ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
            {
                Greenlet<byte[]> reader = loop.Spawn(() => accepted.ReceiveToEndAsync());
                foreach (byte[] chunk in chunks)
                {
                    await client.SendAsync(chunk);
                }

                client.ShutdownSend();
                return await reader;
            }
        });

        Assert.True(expected.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public void ShutdownSend_RightAfterAQueuedSend_TheEndFollowsTheData()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            await client.SendAsync("last words"u8.ToArray());
            client.ShutdownSend();
            Assert.Equal("last words"u8.ToArray(), await accepted.ReceiveToEndAsync());

            // Half-closed only: the other direction still works.
            await accepted.SendAsync("reply"u8.ToArray());
            byte[] reply = new byte[5];
            await client.ReceiveExactlyAsync(reply);
            Assert.Equal("reply"u8.ToArray(), reply);
        });
    }

    [Fact]
    public void Dispose_RightAfterAQueuedSend_DeliversTheDataThenTheEnd()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            await client.SendAsync("goodbye"u8.ToArray());
            client.Dispose();
            using (loop.FailAfter(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal("goodbye"u8.ToArray(), await accepted.ReceiveToEndAsync());
            }
        });
    }

    [Fact]
    public void SendsAfterThePeerReset_FailWithASocketException()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            Assert.Equal(SocketError.Success, SocketPal.SetLinger(client.Socket.Fd, true, 0));
            client.Dispose();
            SocketException? error = null;
            for (int i = 0; i < 1000 && error is null; i++)
            {
                try
                {
                    await accepted.SendAsync("into the void"u8.ToArray());
                    await loop.Yield();
                }
                catch (SocketException e)
                {
                    error = e;
                }
            }

            Assert.NotNull(error);
            Assert.True(error.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown, error.SocketErrorCode.ToString());
        });
    }

    [Fact]
    public void Kill_OfASendWaitingBehindTheRingSend_SendsNothingOfIt_AndLaterSendsFollow()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            Assert.True(client.SendAsync("first"u8.ToArray()).IsCompletedSuccessfully);
            loop.CompletionIo!.Submit(); // the kernel has the copy: a send can no longer join it
            Greenlet second = loop.Spawn(async () => await client.SendAsync("second"u8.ToArray()));
            await loop.Yield(); // second now waits behind the ring send... or already went
            second.Kill();
            await second.Task.ContinueWith(_ => { }, TaskScheduler.Default);

            await client.SendAsync("third"u8.ToArray());
            client.ShutdownSend();
            string all = System.Text.Encoding.ASCII.GetString(await accepted.ReceiveToEndAsync());
            Assert.True(all is "firstthird" or "firstsecondthird", all);
            Assert.Equal(second.Succeeded, all == "firstsecondthird");
        });
    }

    [Fact]
    public void TokenCanceled_WhileWaitingBehindTheRingSend_Throws()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            using var cts = new CancellationTokenSource();
            Assert.True(client.SendAsync("first"u8.ToArray()).IsCompletedSuccessfully);
            loop.CompletionIo!.Submit(); // the kernel has the copy: a send can no longer join it
            ValueTask second = client.SendAsync("second"u8.ToArray(), cts.Token);
            Assert.False(second.IsCompleted); // behind the ring send
            cts.Cancel();
            OperationCanceledException e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await second);
            Assert.Equal(cts.Token, e.CancellationToken);

            await client.SendAsync("third"u8.ToArray());
            client.ShutdownSend();
            Assert.Equal("firstthird"u8.ToArray(), await accepted.ReceiveToEndAsync());
        });
    }

    [Fact]
    public void ManyConnections_SendingInOneIteration_WarmRoundTripsAllocateNothing()
    {
        using Loop? loop = RingNet.CreateLoop();
        if (loop is null)
        {
            return;
        }

        // More copies on the ring at once than a shared array pool caches.
        const int Connections = 200;
        using StreamServer server = EventLoop.Samples.Echo.EchoServer.Create(loop, LoopNet.AnyPort, log: null);
        server.Start();
        var clients = new List<StreamConnection>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                clients.Add(loop.Run(() => loop.ConnectAsync(server.LocalEndPoint)));
            }

            byte[] message = new byte[64];
            byte[] reply = new byte[64];
            var pending = new ValueTask<int>[Connections];
            void Round()
            {
                foreach (StreamConnection client in clients)
                {
                    ValueTask send = client.SendAsync(message);
                    Assert.True(send.IsCompletedSuccessfully);
                    send.GetAwaiter().GetResult();
                }

                for (int i = 0; i < Connections; i++)
                {
                    int received = 0;
                    while (received < reply.Length)
                    {
                        ValueTask<int> receive = clients[i].ReceiveAsync(reply.AsMemory(received));
                        while (!receive.IsCompleted)
                        {
                            loop.RunOnce(Timeout.InfiniteTimeSpan);
                        }

                        received += receive.GetAwaiter().GetResult();
                    }
                }
            }

            for (int i = 0; i < 30; i++)
            {
                Round();
            }

            Assert.Equal(0, AllocationWindows.Quietest(3, () =>
            {
                for (int i = 0; i < 15; i++)
                {
                    Round();
                }
            }));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}
