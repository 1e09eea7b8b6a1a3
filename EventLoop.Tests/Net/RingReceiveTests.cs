using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Polling;

namespace EventLoop.Tests.Net;

/// <summary>
/// StreamConnection on the io_uring back end, where a receive that has to wait is an
/// IORING_OP_RECV on the ring: the same kill, deadline, token, close and allocation guarantees as
/// a readiness wait. Each test returns at once where the loop has no <see cref="Loop.CompletionIo"/>.
/// </summary>
public sealed class RingReceiveTests
{
    [Fact]
    public void WaitingReceive_IsARequestOnTheRing_AndCompletesWithTheData()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            byte[] buffer = new byte[16];
            ValueTask<int> pending = accepted.ReceiveAsync(buffer);
            Assert.False(pending.IsCompleted);
            Assert.Equal(1, loop.CompletionIo!.InFlight);
            await loop.Yield();
            Assert.Equal(1, loop.CompletionIo.InFlight); // submitted; the kernel waits, no EAGAIN

            await client.SendAsync("ring"u8.ToArray());
            Assert.Equal(4, await pending);
            Assert.Equal("ring"u8.ToArray(), buffer[..4]);
            Assert.Equal(0, loop.CompletionIo.InFlight);
        });
    }

    [Fact]
    public void RingReceive_CompletingWhileTheLoopSpins_ResumesItsGreenletBeforeTheSpinEnds()
    {
        // The spin's non-blocking polls reap completions and queue the greenlets they resume,
        // which are not ready events: the spin must still see that there is work.
        if (!IoUringProbe.Current.IsAvailable)
        {
            return;
        }

        using var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring, SpinBeforePoll = TimeSpan.FromSeconds(30) });
        if (loop.CompletionIo is null)
        {
            return;
        }

        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect(listener.LocalEndPoint); // completes into the accept queue
        using var send = new ManualResetEventSlim();
        var sender = new Thread(() =>
        {
            send.Wait();
            peer.Send("spin"u8);
        });
        sender.Start();

        // Liveness bound only: a loop that misses the completion is stopped here.
        using var rescue = new LoopRescue(loop, TimeSpan.FromSeconds(10));
        int received = -1;
        loop.Spawn(async () =>
        {
            using StreamConnection accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[16];
            ValueTask<int> pending = accepted.ReceiveAsync(buffer);
            Assert.False(pending.IsCompleted);
            send.Set(); // the loop then has nothing to do: it spins while the peer sends
            received = await pending;
            loop.Stop();
        });
        loop.Run();

        Assert.True(sender.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(4, received);
        Assert.False(rescue.Fired, "the completion was handled only after the spin was stopped");
    }

    [Fact]
    public void Kill_DuringRingReceive_EndsTheGreenletAndTheConnectionStaysUsable()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            Greenlet<int> reader = loop.Spawn(async () => await accepted.ReceiveAsync(new byte[16]));
            await WaitForRingRequestAsync(loop);

            reader.Kill();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader);
            Assert.Equal(0, loop.CompletionIo!.InFlight);

            await client.SendAsync("after"u8.ToArray());
            byte[] buffer = new byte[16];
            await accepted.ReceiveExactlyAsync(buffer.AsMemory(0, 5));
            Assert.Equal("after"u8.ToArray(), buffer[..5]);
        });
    }

    [Fact]
    public void FailAfter_DuringRingReceive_ThrowsTheScopesTimeout()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            CancelScope? scope = null;
            LoopTimeoutException error = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (scope = loop.FailAfter(TimeSpan.FromMilliseconds(50)))
                {
                    await accepted.ReceiveAsync(new byte[16]);
                }
            });

            Assert.Same(scope, error.Scope);
            Assert.Equal(0, loop.CompletionIo!.InFlight);
            await client.SendAsync("x"u8.ToArray());
            Assert.Equal(1, await accepted.ReceiveAsync(new byte[16]));
        });
    }

    [Fact]
    public void TokenCanceled_DuringRingReceive_ThrowsForThatToken_NoDataLost()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[16], cts.Token);
            Assert.False(pending.IsCompleted);
            await loop.Yield();

            // The data and the cancellation cross: whichever wins, no byte is lost.
            await client.SendAsync("crossed"u8.ToArray());
            cts.Cancel();
            int got = 0;
            try
            {
                got = await pending;
            }
            catch (OperationCanceledException e)
            {
                Assert.Equal(cts.Token, e.CancellationToken);
            }

            byte[] rest = new byte[7 - got];
            await accepted.ReceiveExactlyAsync(rest);
            Assert.Equal(0, loop.CompletionIo!.InFlight);
        });
    }

    [Fact]
    public void TokenCanceledFromAnotherThread_DuringRingReceive_Throws()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[16], cts.Token);
            await loop.Yield();
            var canceler = new Thread(cts.Cancel);
            canceler.Start();
            OperationCanceledException e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
            canceler.Join();
            Assert.Equal(cts.Token, e.CancellationToken);
            Assert.Equal(0, loop.CompletionIo!.InFlight);
        });
    }

    [Fact]
    public void Dispose_DuringRingReceive_FailsItAndThePeerSeesTheClose()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[16]);
            await loop.Yield();
            Assert.Equal(1, loop.CompletionIo!.InFlight);

            accepted.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
            Assert.Equal(0, loop.CompletionIo.InFlight);

            // The ring does not keep the file open: the FIN reaches the peer.
            using (loop.FailAfter(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(0, await client.ReceiveAsync(new byte[16]));
            }
        });
    }

    [Fact]
    public void PeerResets_DuringRingReceive_ThrowsConnectionReset()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            ValueTask<int> pending = accepted.ReceiveAsync(new byte[8]);
            await loop.Yield();
            Assert.Equal(SocketError.Success, SocketPal.SetLinger(client.Socket.Fd, true, 0));
            client.Dispose();
            SocketException error = await Assert.ThrowsAsync<SocketException>(async () => await pending);
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        });
    }

    [Fact]
    public void WarmRoundTrips_ThroughTheRing_AllocateNothing()
    {
        using Loop? loop = RingNet.CreateLoop();
        if (loop is null)
        {
            return;
        }

        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        (StreamConnection client, StreamConnection accepted) = loop.Run(async () =>
        {
            StreamConnection c = await loop.ConnectAsync(listener.LocalEndPoint);
            return (c, await listener.AcceptAsync());
        });
        using (client)
        using (accepted)
        {
            // An echoing greenlet whose receives wait on the ring.
            Greenlet echo = loop.Spawn(async () =>
            {
                byte[] buffer = new byte[64];
                int n;
                while ((n = await accepted.ReceiveAsync(buffer)) > 0)
                {
                    await accepted.SendAsync(buffer.AsMemory(0, n));
                }
            });
            LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);
            echo.Kill();
        }
    }

    [Fact]
    public void ZeroByteReceive_WaitsOnThePool_ThenTheDataIsReturnedSynchronously()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            if (!loop.CompletionIo!.CanReceivePooled)
            {
                return;
            }

            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);
            Assert.False(zero.IsCompleted);
            Assert.Equal(1, loop.CompletionIo!.InFlight);
            await client.SendAsync("pooled"u8.ToArray());
            Assert.Equal(0, await zero);

            // Still there for a zero-byte receive, then taken in two pieces without waiting.
            Assert.True(accepted.ReceiveAsync(Memory<byte>.Empty).IsCompletedSuccessfully);
            byte[] buffer = new byte[4];
            ValueTask<int> first = accepted.ReceiveAsync(buffer);
            Assert.True(first.IsCompletedSuccessfully);
            Assert.Equal(4, first.Result);
            Assert.Equal("pool"u8.ToArray(), buffer);
            ValueTask<int> second = accepted.ReceiveAsync(buffer);
            Assert.True(second.IsCompletedSuccessfully);
            Assert.Equal(2, second.Result);
            Assert.Equal("ed"u8.ToArray(), buffer[..2]);
        });
    }

    [Fact]
    public void ZeroByteReceive_OnThePool_PeerCloses_CompletesThenReceiveSeesEnd()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);
            await loop.Yield();
            await client.SendAsync("end"u8.ToArray());
            client.Dispose();
            Assert.Equal(0, await zero);
            byte[] buffer = new byte[16];
            Assert.Equal(3, await accepted.ReceiveAsync(buffer));
            Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            Assert.Equal(0, await accepted.ReceiveAsync(buffer));
        });
    }

    [Fact]
    public void Kill_DuringPooledZeroByteReceive_LosesNoData()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            Greenlet<int> waiter = loop.Spawn(async () => await accepted.ReceiveAsync(Memory<byte>.Empty));
            await WaitForRingRequestAsync(loop);

            // The data and the kill cross: the bytes stay for the next receive either way.
            await client.SendAsync("kept"u8.ToArray());
            waiter.Kill();
            try
            {
                await waiter;
            }
            catch (OperationCanceledException)
            {
            }

            // The connection's multishot receive stays armed (it is the connection's, not the
            // wait's); a single-shot one was cancelled.
            Assert.True(loop.CompletionIo!.InFlight <= 1);
            byte[] buffer = new byte[4];
            await accepted.ReceiveExactlyAsync(buffer);
            Assert.Equal("kept"u8.ToArray(), buffer);
        });
    }

    [Fact]
    public void FastSender_SlowReader_ThePoolIsNotDrained_AndAllDataArrivesInOrder()
    {
        byte[] payload = new byte[2 * 1024 * 1024];
        new Random(5).NextBytes(payload);
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            Greenlet sender = loop.Spawn(async () =>
            {
                await client.SendAsync(payload);
                client.ShutdownSend();
            });

            // Zero-byte waits put the connection on its multishot receive; the reader then
            // lets data pile up while the sender pushes 2 MiB.
            Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            for (int i = 0; i < 20; i++)
            {
                await loop.Yield();
            }

            Assert.True(loop.CompletionIo!.InFlight <= 2);
            var all = new MemoryStream();
            byte[] buffer = new byte[3000];
            int n;
            while ((n = await accepted.ReceiveAsync(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
                Assert.Equal(0, await accepted.ReceiveAsync(Memory<byte>.Empty));
            }

            await sender;
            Assert.True(payload.AsSpan().SequenceEqual(all.ToArray()));
        });
    }

    [Fact]
    public void ManyReadersHoldingBuffers_DrainThePool_TheRestFallBack_AndAllDataArrives()
    {
        using Loop? loop = RingNet.CreateLoop();
        if (loop is null || !loop.CompletionIo!.CanReceivePooled)
        {
            return;
        }

        // 1,024 pool buffers, at most 8 held per connection: 160 connections that each get 40 KiB
        // and do not read run the pool dry, so the later ones see ENOBUFS and fall back.
        const int Pairs = 160;
        const int Size = 40 * 1024;
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort, backlog: Pairs);
            var clients = new List<StreamConnection>();
            var servers = new List<StreamConnection>();
            try
            {
                for (int i = 0; i < Pairs; i++)
                {
                    clients.Add(await loop.ConnectAsync(listener.LocalEndPoint));
                    servers.Add(await listener.AcceptAsync());
                }

                var waits = new List<Greenlet<int>>();
                foreach (StreamConnection server in servers)
                {
                    waits.Add(loop.Spawn(async () => await server.ReceiveAsync(Memory<byte>.Empty)));
                }

                for (int i = 0; i < Pairs; i++)
                {
                    await clients[i].SendAsync(Payload(i, Size));
                }

                foreach (Greenlet<int> wait in waits)
                {
                    Assert.Equal(0, await wait);
                }

                byte[] buffer = new byte[Size];
                for (int i = 0; i < Pairs; i++)
                {
                    await servers[i].ReceiveExactlyAsync(buffer);
                    Assert.True(buffer.AsSpan().SequenceEqual(Payload(i, Size)), $"connection {i}");
                }
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
                servers.ForEach(c => c.Dispose());
            }
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Dispose_DuringPooledZeroByteReceive_FailsIt()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            ValueTask<int> zero = accepted.ReceiveAsync(Memory<byte>.Empty);
            await loop.Yield();
            accepted.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await zero);
            Assert.Equal(0, loop.CompletionIo!.InFlight);
            using (loop.FailAfter(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(0, await client.ReceiveAsync(new byte[4]));
            }
        });
    }

    [Fact]
    public void EchoServer_QuietWarmRoundTrips_OnTheRing_AllocateNothing()
    {
        using Loop? loop = RingNet.CreateLoop();
        if (loop is null)
        {
            return;
        }

        using StreamServer server = EventLoop.Samples.Echo.EchoServer.Create(loop, LoopNet.AnyPort, log: null);
        server.Start();
        using StreamConnection client = loop.Run(() => loop.ConnectAsync(server.LocalEndPoint));
        LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);
    }

    private static byte[] Payload(int seed, int size)
    {
        byte[] payload = new byte[size];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    private static async Task WaitForRingRequestAsync(Loop loop)
    {
        for (int i = 0; i < 100 && loop.CompletionIo!.InFlight == 0; i++)
        {
            await loop.Yield();
        }

        Assert.Equal(1, loop.CompletionIo!.InFlight);
        await loop.Yield(); // and submitted
    }
}
