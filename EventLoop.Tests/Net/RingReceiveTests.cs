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
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
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
            }
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Kill_DuringRingReceive_EndsTheGreenletAndTheConnectionStaysUsable()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
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
            }
        });
    }

    [Fact]
    public void FailAfter_DuringRingReceive_ThrowsTheScopesTimeout()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
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
            }
        });
    }

    [Fact]
    public void TokenCanceled_DuringRingReceive_ThrowsForThatToken_NoDataLost()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
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
            }
        });
    }

    [Fact]
    public void TokenCanceledFromAnotherThread_DuringRingReceive_Throws()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
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
            }
        });
    }

    [Fact]
    public void Dispose_DuringRingReceive_FailsItAndThePeerSeesTheClose()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
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
            }
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void PeerResets_DuringRingReceive_ThrowsConnectionReset()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (accepted)
            {
                ValueTask<int> pending = accepted.ReceiveAsync(new byte[8]);
                await loop.Yield();
                Assert.Equal(SocketError.Success, SocketPal.SetLinger(client.Socket.Fd, true, 0));
                client.Dispose();
                SocketException error = await Assert.ThrowsAsync<SocketException>(async () => await pending);
                Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
            }
        });
    }

    [Fact]
    public void WarmRoundTrips_ThroughTheRing_AllocateNothing()
    {
        using Loop? loop = CreateLoop();
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

    private static Loop? CreateLoop()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return null;
        }

        var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        if (loop.CompletionIo is null)
        {
            loop.Dispose();
            return null;
        }

        return loop;
    }

    private static async Task<(StreamConnection Client, StreamConnection Accepted, StreamListener Listener)> ConnectAsync(Loop loop)
    {
        StreamListener listener = loop.Listen(LoopNet.AnyPort);
        StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
        StreamConnection accepted = await listener.AcceptAsync();
        return (client, accepted, listener);
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
