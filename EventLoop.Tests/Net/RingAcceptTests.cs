using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Net.Operations;

namespace EventLoop.Tests.Net;

/// <summary>
/// StreamListener on the io_uring back end, where an accept that has to wait arms one multishot
/// IORING_OP_ACCEPT (<see cref="RingAcceptor"/>): order, the bounded queue, kill, token, deadline,
/// close and descriptor exhaustion, with no connection lost and no descriptor leaked. Each test
/// returns at once where the loop has no <see cref="Loop.CompletionIo"/> or the ring accept is
/// switched off (<c>EVENTLOOP_ACCEPT_MULTISHOT=0</c>).
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class RingAcceptTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void WaitingAccept_IsOneMultishotRequest_ThatServesEveryConnectionInOrder()
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        const int Count = 3 * RingAcceptor.MaxQueued;
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            ValueTask<StreamConnection> first = listener.AcceptAsync();
            Assert.False(first.IsCompleted);
            Assert.True(listener.RingAcceptor!.IsArmed);
            Assert.Equal(1, loop.CompletionIo!.InFlight);

            var clients = new List<StreamConnection>();
            var accepted = new List<StreamConnection>();
            try
            {
                for (int i = 0; i < Count; i++)
                {
                    clients.Add(await loop.ConnectAsync(listener.LocalEndPoint));
                    Assert.InRange(loop.CompletionIo.InFlight, 0, 1); // one request, however many connections
                }

                accepted.Add(await first);
                while (accepted.Count < Count)
                {
                    accepted.Add(await listener.AcceptAsync());
                    Assert.InRange(loop.CompletionIo.InFlight, 0, 1);
                }

                for (int i = 0; i < Count; i++)
                {
                    Assert.Equal(clients[i].LocalEndPoint, accepted[i].RemoteEndPoint);
                }

                Assert.Equal(0, listener.RingAcceptor.QueuedCount);
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
                accepted.ForEach(c => c.Dispose());
            }
        });
        Assert.Equal(0, loop.CompletionIo!.InFlight);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ManyConnectsBeforeOneAccept_AfterAKilledWaiter_AllQueuedOrInTheKernel_NoneLostInOrder()
    {
        const int Count = RingAcceptor.MaxQueued + 9;
        RunOnRing(async loop =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            await ArmWithAKilledWaiterAsync(loop, listener);

            var clients = new List<StreamConnection>();
            var accepted = new List<StreamConnection>();
            try
            {
                for (int i = 0; i < Count; i++)
                {
                    clients.Add(await loop.ConnectAsync(listener.LocalEndPoint));
                }

                // The first MaxQueued wait in the listener's queue, the ring accept paused; the
                // rest wait in the kernel's listen queue.
                await WaitUntilAsync(loop, () => listener.RingAcceptor!.QueuedCount >= RingAcceptor.MaxQueued);
                Assert.False(listener.RingAcceptor!.IsArmed);

                for (int i = 0; i < Count; i++)
                {
                    accepted.Add(await listener.AcceptAsync());
                }

                for (int i = 0; i < Count; i++)
                {
                    Assert.Equal(clients[i].LocalEndPoint, accepted[i].RemoteEndPoint);
                }

                // Every connection works.
                await clients[Count - 1].SendAsync("last"u8.ToArray());
                byte[] buffer = new byte[4];
                await accepted[Count - 1].ReceiveExactlyAsync(buffer);
                Assert.Equal("last"u8.ToArray(), buffer);
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
                accepted.ForEach(c => c.Dispose());
            }
        });
    }

    [Fact]
    public void Kill_WaitingAccept_EndsTheGreenlet_TheRequestStaysArmed_NextAcceptGetsTheConnection()
    {
        RunOnRing(async loop =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            await ArmWithAKilledWaiterAsync(loop, listener);
            Assert.True(listener.RingAcceptor!.IsArmed);

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            await WaitUntilAsync(loop, () => listener.RingAcceptor.QueuedCount == 1);
            ValueTask<StreamConnection> next = listener.AcceptAsync();
            Assert.True(next.IsCompleted); // served from the queue, no wait
            using StreamConnection accepted = await next;
            Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
        });
    }

    [Fact]
    public void TokenCanceled_WaitingAccept_ThrowsForThatToken_ListenerStaysUsable()
    {
        RunOnRing(async loop =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using var cts = new CancellationTokenSource();
            ValueTask<StreamConnection> pending = listener.AcceptAsync(cts.Token);
            Assert.False(pending.IsCompleted);
            await loop.Yield();
            cts.Cancel();
            OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
            Assert.Equal(cts.Token, error.CancellationToken);
            await AssertStillAcceptsAsync(loop, listener);
        });
    }

    [Fact]
    public void FailAfter_WaitingAccept_ThrowsTheScopesTimeout_ListenerStaysUsable()
    {
        RunOnRing(async loop =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            CancelScope? scope = null;
            LoopTimeoutException error = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (scope = loop.FailAfter(TimeSpan.FromMilliseconds(50)))
                {
                    await listener.AcceptAsync();
                }
            });
            Assert.Same(scope, error.Scope);
            await AssertStillAcceptsAsync(loop, listener);
        });
    }

    [Fact]
    public void Dispose_WhileAcceptWaitsOnTheRing_FailsItWithObjectDisposed_AndEndsTheRequest()
    {
        RunOnRing(async loop =>
        {
            StreamListener listener = loop.Listen(LoopNet.AnyPort);
            ValueTask<StreamConnection> pending = listener.AcceptAsync();
            await loop.Yield();
            Assert.Equal(1, loop.CompletionIo!.InFlight);
            listener.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
            Assert.Equal(0, loop.CompletionIo.InFlight);

            // The kernel let go of the listening socket: nobody listens on the port any more.
            await Assert.ThrowsAsync<SocketException>(() => loop.ConnectAsync(listener.LocalEndPoint));
        });
    }

    [Fact]
    public void Dispose_WithConnectionsQueuedAndInTheKernel_ClosesEveryDescriptor_ClientsSeeTheClose()
    {
        const int Count = RingAcceptor.MaxQueued + 8;
        RunOnRing(async loop =>
        {
            StreamListener warm = loop.Listen(LoopNet.AnyPort);
            await ArmWithAKilledWaiterAsync(loop, warm);
            warm.Dispose();

            DescriptorSnapshot before = DescriptorSnapshot.Take();
            StreamListener listener = loop.Listen(LoopNet.AnyPort);
            await ArmWithAKilledWaiterAsync(loop, listener);
            var clients = new List<StreamConnection>();
            for (int i = 0; i < Count; i++)
            {
                clients.Add(await loop.ConnectAsync(listener.LocalEndPoint));
            }

            await WaitUntilAsync(loop, () => listener.RingAcceptor!.QueuedCount >= RingAcceptor.MaxQueued);
            listener.Dispose();
            Assert.Equal(0, loop.CompletionIo!.InFlight);
            before.AssertOpenedSince(Count); // only the clients

            foreach (StreamConnection client in clients)
            {
                // Closed before it was accepted or after: end of stream or a reset, never a hang.
                try
                {
                    Assert.Equal(0, await client.ReceiveAsync(new byte[1]));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                }

                client.Dispose();
            }

            before.AssertOpenedSince(0);
        });
    }

    [Fact]
    public void LoopDisposed_WithTheRingAcceptArmed_AndConnectionsNotYetReaped_LeaksNoDescriptor()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        var peers = new List<Socket>();
        using (Loop? loop = CreateLoop())
        {
            if (loop is null)
            {
                return;
            }

            StreamListener listener = loop.Listen(LoopNet.AnyPort);
            LoopNet.Run(loop, () => ArmWithAKilledWaiterAsync(loop, listener));
            EndPoint endPoint = listener.LocalEndPoint;

            // The loop does not run: the kernel accepts these for the armed request, and the
            // completions wait in the ring until the loop's disposal cancels it.
            for (int i = 0; i < 4; i++)
            {
                var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                peers.Add(peer);
                peer.Connect(endPoint);
            }
        }

        peers.ForEach(p => p.Dispose());
        before.AssertOpenedSince(0);
    }

    [Fact]
    public void OutOfDescriptors_WhileTheRingAccepts_DoesNotSpin_AndServesTheClientOnceDescriptorsFree()
    {
        // The accept starts out of descriptors and backs off; each retry arms the ring accept
        // again (the kernel reads the limit when a request is submitted), which fails at once
        // with EMFILE until descriptors free up, and then accepts the client.
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        NetResourceTests.AssertAcceptBacksOffWhileOutOfDescriptors(loop, listener => Assert.NotNull(listener.RingAcceptor));
    }

    [Fact]
    public void RingAcceptAnsweredWithEagain_ListenerFallsBackToReadiness_AndKeepsAccepting()
    {
        RunOnRing(async loop =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            await ArmWithAKilledWaiterAsync(loop, listener);
            RingAcceptor ring = listener.RingAcceptor!;
            var connections = new List<StreamConnection>();
            try
            {
                // A full queue pauses the ring accept; then the ring ends with EAGAIN, as a
                // kernel that honours the listener's O_NONBLOCK instead of waiting would answer.
                for (int i = 0; i < RingAcceptor.MaxQueued; i++)
                {
                    connections.Add(await loop.ConnectAsync(listener.LocalEndPoint));
                }

                await WaitUntilAsync(loop, () => !ring.IsArmed);
                CompletionRequest ended = loop.CompletionIo!.CreateRequest(ring);
                ((ICompletionHandler)ring).OnCompleted(ended, -Interop.Libc.EAGAIN);
                Assert.False(ring.IsActive);

                int queued = ring.QueuedCount;
                for (int i = 0; i < queued; i++)
                {
                    connections.Add(await listener.AcceptAsync()); // what the ring accepted is still served
                }

                // From now on the listener waits for readiness, with Read armed.
                ValueTask<StreamConnection> pending = listener.AcceptAsync();
                Assert.False(pending.IsCompleted);
                StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
                connections.Add(client);
                StreamConnection accepted = await pending;
                connections.Add(accepted);
                Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
                Assert.False(ring.IsArmed);
            }
            finally
            {
                connections.ForEach(c => c.Dispose());
            }
        }, seconds: 10);
    }

    // A loop whose listeners accept through the ring; null without io_uring completions, or
    // when EVENTLOOP_ACCEPT_MULTISHOT=0 keeps accept on readiness.
    private static Loop? CreateLoop() =>
        Environment.GetEnvironmentVariable("EVENTLOOP_ACCEPT_MULTISHOT") == "0" ? null : RingNet.CreateLoop();

    // Runs body on a fresh loop whose listeners accept through the ring (nothing where there is
    // none), then asserts that no registration is left.
    private static void RunOnRing(Func<Loop, Task> body, int seconds = 30)
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.Run(loop, () => body(loop), seconds);
        LoopNet.AssertNoRegistrations(loop);
    }

    // An accept that has to wait arms the ring accept; killing it leaves the request armed.
    private static async Task ArmWithAKilledWaiterAsync(Loop loop, StreamListener listener)
    {
        Greenlet<StreamConnection> waiter = loop.Spawn(() => listener.AcceptAsync().AsTask());
        await WaitUntilAsync(loop, () => listener.RingAcceptor is { IsArmed: true });
        waiter.Kill();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiter);
        Assert.True(listener.RingAcceptor!.IsArmed);
    }

    private static async Task WaitUntilAsync(Loop loop, Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < s_liveness, "the condition never came true");
            await loop.Yield();
        }
    }

    // A listener whose wait ended early still accepts the next connection, from the right peer.
    private static async Task AssertStillAcceptsAsync(Loop loop, StreamListener listener)
    {
        using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
        using StreamConnection accepted = await listener.AcceptAsync();
        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
    }
}
