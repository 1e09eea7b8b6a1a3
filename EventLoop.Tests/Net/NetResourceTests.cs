using System.Globalization;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>Descriptor counting, descriptor limits and allocation counting: alone, so nothing else skews them.</summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class NetResourceTests
{
    [Fact]
    public void Loop_UsesTheBackEndTheEnvironmentAsksFor()
    {
        using Loop loop = LoopNet.Create();
        PollerKind expected = EventLoop.Polling.PollerFactory.ParseOverride(Environment.GetEnvironmentVariable("EVENTLOOP_POLLER"))
            ?? PollerKind.Epoll;
        Assert.Equal(expected, loop.Poller);
    }

    [Fact]
    public void ConnectEchoClose_TwoThousandCycles_LeaksNoDescriptor()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            var server = new StreamServer(loop, LoopNet.AnyPort, (c, ct) => LoopNet.EchoAsync(c, ct));
            server.Start();
            byte[] message = "cycle"u8.ToArray();
            byte[] reply = new byte[message.Length];

            async Task CycleAsync()
            {
                using StreamConnection c = await loop.ConnectAsync(server.LocalEndPoint);
                await c.SendAsync(message);
                await c.ReceiveExactlyAsync(reply);
            }

            await CycleAsync(); // warm up anything the runtime opens lazily
            while (server.ConnectionCount > 0)
            {
                await loop.Yield();
            }

            DescriptorSnapshot before = DescriptorSnapshot.Take();
            for (int i = 0; i < 2000; i++)
            {
                await CycleAsync();
            }

            while (server.ConnectionCount > 0)
            {
                await loop.Yield();
            }

            before.AssertOpenedSince(0);
            await server.StopAsync(TimeSpan.Zero);
        }, seconds: 60);
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ConnectAsync_CancelledWhileHandshakePending_ClosesSocket()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            // A listener that never accepts, with the smallest backlog: once its queue is full the
            // kernel drops further SYNs, so the next connect stays pending.
            using StreamListener listener = loop.Listen(LoopNet.AnyPort, backlog: 1);
            var queued = new List<StreamConnection>();
            DescriptorSnapshot before = DescriptorSnapshot.Take();
            using var cts = new CancellationTokenSource();
            Task<StreamConnection>? pending = null;
            for (int i = 0; i < 16 && pending is null; i++)
            {
                Task<StreamConnection> attempt = loop.ConnectAsync(listener.LocalEndPoint, cts.Token);
                for (int spin = 0; spin < 10 && !attempt.IsCompleted; spin++)
                {
                    await loop.Yield();
                }

                if (attempt.IsCompleted)
                {
                    queued.Add(await attempt);
                }
                else
                {
                    pending = attempt;
                }
            }

            Assert.NotNull(pending);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            before.AssertOpenedSince(queued.Count); // the listener never accepts: only our client ends
            foreach (StreamConnection c in queued)
            {
                c.Dispose();
            }

            before.AssertOpenedSince(0);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void AcceptAsync_OutOfDescriptors_DoesNotSpinAndServesClientOnceDescriptorsFree()
    {
        using Loop loop = LoopNet.Create();
        AssertAcceptBacksOffWhileOutOfDescriptors(loop, _ => { });
    }

    /// <summary>
    /// An accept on <paramref name="loop"/> that runs out of descriptors neither spins nor fails,
    /// and serves its client once descriptors free up; <paramref name="whileOut"/> looks at the
    /// listener while they are exhausted.
    /// </summary>
    internal static void AssertAcceptBacksOffWhileOutOfDescriptors(Loop loop, Action<StreamListener> whileOut)
    {
        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        using StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint));

        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong original, out _));
        var fillers = new List<int>();
        Greenlet<StreamConnection> acceptor;
        long spent;
        int highest = Directory.GetFiles("/proc/self/fd").Max(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture));
        Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit((ulong)highest + 8));
        try
        {
            while (SocketPal.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, out int fd) == SocketError.Success)
            {
                fillers.Add(fd);
            }

            acceptor = loop.Spawn(() => listener.AcceptAsync().AsTask());
            bool stop = false;
            loop.CallLater(TimeSpan.FromMilliseconds(300), () => stop = true);
            long start = loop.Statistics.Iterations;
            while (!stop)
            {
                loop.RunOnce(Timeout.InfiniteTimeSpan);
            }

            spent = loop.Statistics.Iterations - start;
            Assert.False(acceptor.IsCompleted);
            whileOut(listener);
        }
        finally
        {
            foreach (int fd in fillers)
            {
                SocketPal.Close(fd);
            }

            SocketPal.SetOpenFileLimit(original);
        }

        // A spinning listener runs thousands of iterations in 300 ms; backing off takes a handful.
        Assert.InRange(spent, 1, 100);

        loop.JoinAll([acceptor], TimeSpan.FromSeconds(10));
        Assert.True(acceptor.Succeeded);
        using StreamConnection accepted = acceptor.Value;
        LoopNet.Run(loop, async () =>
        {
            await client.SendAsync("served"u8.ToArray());
            byte[] buffer = new byte[6];
            await accepted.ReceiveExactlyAsync(buffer);
            Assert.Equal("served"u8.ToArray(), buffer);
        });
    }

    [Fact]
    public void WarmEchoRoundTrip_AllocatesNothing() => AssertWarmEchoAllocatesNothing(cancellable: false);

    [Fact]
    public void WarmEchoRoundTrip_CancellableToken_AllocatesNothing() => AssertWarmEchoAllocatesNothing(cancellable: true);

    // The server side parks a receive per round trip; with a token that can be cancelled, that
    // wait registers with the token every time.
    private static void AssertWarmEchoAllocatesNothing(bool cancellable)
    {
        using Loop loop = LoopNet.Create();
        using var cts = new CancellationTokenSource();
        CancellationToken token = cancellable ? cts.Token : CancellationToken.None;
        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        using StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint));
        Greenlet server = loop.Spawn(async () =>
        {
            using StreamConnection accepted = await listener.AcceptAsync();
            await LoopNet.EchoAsync(accepted, token);
        });
        LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);

        client.ShutdownSend();
        loop.JoinAll([server], TimeSpan.FromSeconds(10));
        Assert.True(server.Succeeded);
    }
}
