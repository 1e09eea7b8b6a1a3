using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// Corner cases of a <see cref="StreamServer"/> over a <see cref="LoopGroup"/>: starting and
/// stopping it around the group's own stop, its limit, and what it leaves open. Some count
/// descriptors, so the class runs alone.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class GroupServerEdgeCaseTests
{
    // Liveness bound only: every wait below normally ends in milliseconds.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MaxConnections_UnixEndpoint_EveryClientUpToTheTotalIsServed()
    {
        // One loop accepts for both and hands connections round robin: each loop's share (2)
        // must count the connections that loop serves, not the acceptor's own.
        string path = LoopNet.TempSocketPath();
        await using var group = new LoopGroup(2);
        await using var server = new StreamServer(group, new UnixDomainSocketEndPoint(path), HelloThenHoldAsync) { MaxConnections = 4 };
        server.Start();
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                Socket client = await ConnectAsync(server.LocalEndPoint);
                clients.Add(client);
                Assert.Equal(1, await client.ReceiveAsync(new byte[1]).WaitAsync(s_bound)); // served, not closed
            }

            Assert.Equal(0, server.RejectedCount);
            Assert.Equal(4, server.ConnectionCount);

            Socket fifth = await ConnectAsync(server.LocalEndPoint);
            clients.Add(fifth);
            Assert.Equal(0, await fifth.ReceiveAsync(new byte[1]).WaitAsync(s_bound)); // the limit holds
            Assert.Equal(1, server.RejectedCount);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
    }

    [Fact]
    public async Task Start_WhileTheGroupStops_ThrowsInsteadOfHanging()
    {
        var group = new LoopGroup(1);
        using var release = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();
        group[0].Post(() =>
        {
            blocked.Set();
            release.Wait(); // holds the loop, so the stop below has not reached it yet
        });
        blocked.Wait();
        Task groupStopped = group.StopAsync();
        var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync);
        Exception? error = null;
        var starter = new Thread(() => error = Record.Exception(server.Start)) { IsBackground = true };
        starter.Start();

        // Start hands its work to the held loop and waits for it (the loop will be disposed next).
        Assert.True(SpinWait.SpinUntil(() => (starter.ThreadState & ThreadState.WaitSleepJoin) != 0, s_bound));
        release.Set();

        Assert.True(starter.Join(s_bound), "Start hung: the loop it waited for was disposed");
        Assert.IsType<ObjectDisposedException>(error);
        await groupStopped.WaitAsync(s_bound);
        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
    }

    [Fact]
    public async Task StopAsync_WhileTheGroupStops_Completes()
    {
        var group = new LoopGroup(1);
        var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync);
        server.Start();
        using var release = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();
        group[0].Post(() =>
        {
            blocked.Set();
            release.Wait(); // holds the loop: the server's stop is queued before the loop is disposed
        });
        blocked.Wait();
        Task groupStopped = group.StopAsync();
        Task serverStopped = server.StopAsync(TimeSpan.FromSeconds(5));
        release.Set();

        await groupStopped.WaitAsync(s_bound);
        await serverStopped.WaitAsync(s_bound);
    }

    [Fact]
    public async Task StopAsync_AfterTheGroupStopped_CompletesAndNothingIsLeftOpen()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        var group = new LoopGroup(2);
        var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync);
        server.Start();
        using (Socket client = await ConnectAsync(server.LocalEndPoint))
        {
            Assert.Equal(1, await client.ReceiveAsync(new byte[1]).WaitAsync(s_bound));
            await group.StopAsync().WaitAsync(s_bound);
            Assert.Equal(0, await client.ReceiveAsync(new byte[1]).WaitAsync(s_bound)); // closed with its loop
        }

        await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(s_bound);
        await server.DisposeAsync();
        server.Dispose();
        before.AssertOpenedSince(0);
    }

    [Fact]
    public async Task Start_Twice_Throws_AndTheServerKeepsServing()
    {
        await using var group = new LoopGroup(2);
        await using var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync);
        server.Start();
        EndPoint endpoint = server.LocalEndPoint;

        Assert.Throws<InvalidOperationException>(server.Start);
        Assert.Equal(endpoint, server.LocalEndPoint);
        using Socket client = await ConnectAsync(endpoint);
        Assert.Equal(1, await client.ReceiveAsync(new byte[1]).WaitAsync(s_bound));
    }

    [Fact]
    public async Task StopAsync_BeforeStart_Completes_AndStartThenThrows()
    {
        await using var group = new LoopGroup(2);
        var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync);

        await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(s_bound);
        Assert.Throws<InvalidOperationException>(server.Start);
        Assert.Throws<InvalidOperationException>(() => server.LocalEndPoint);
    }

    [Fact]
    public async Task StopAsync_Grace_LetsFinishingHandlersEnd_KillsTheRest_ReturnsWhenAllEnded()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        await using (var group = new LoopGroup(2))
        {
            int finished = 0, killed = 0, started = 0;
            var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            const int Clients = 8;
            var server = new StreamServer(group, LoopNet.AnyPort, async (c, ct) =>
            {
                if (Interlocked.Increment(ref started) == Clients)
                {
                    allStarted.TrySetResult();
                }

                var buffer = new byte[1];
                try
                {
                    // A client that sends 'q' lets its handler finish; the others hold it until killed.
                    while (await c.ReceiveAsync(buffer, ct) == 1 && buffer[0] != (byte)'q')
                    {
                    }

                    await c.SendAsync("b"u8.ToArray(), ct);
                    Interlocked.Increment(ref finished);
                }
                catch (OperationCanceledException)
                {
                    await Task.Yield(); // unwinding takes a step of its own
                    Interlocked.Increment(ref killed);
                    throw;
                }
            });
            server.Start();
            var clients = new List<Socket>();
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(await ConnectAsync(server.LocalEndPoint));
            }

            await allStarted.Task.WaitAsync(s_bound);
            for (int i = 0; i < Clients; i += 2)
            {
                await clients[i].SendAsync("q"u8.ToArray());
            }

            // The grace is the test's bound: handlers told to finish do so well within it.
            await server.StopAsync(TimeSpan.FromMilliseconds(300)).WaitAsync(s_bound);

            // Every handler had ended (a killed one after its unwinding step) when the stop returned;
            // the ones never told to finish cannot have ended but by the kill.
            Assert.Equal(Clients, Volatile.Read(ref finished) + Volatile.Read(ref killed));
            Assert.True(killed >= Clients / 2, $"killed {killed}");
            Assert.Equal(0, server.ConnectionCount);
            foreach (Socket client in clients)
            {
                await ReceiveToEndAsync(client).WaitAsync(s_bound); // each connection was closed
                client.Dispose();
            }
        }

        before.AssertOpenedSince(0);
    }

    [Fact]
    public async Task MaxConnections_OnRejectedHangsOrThrows_ClientClosed_AcceptingGoesOn()
    {
        var reports = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        await using var group = new LoopGroup(2, new LoopGroupOptions { Loop = new LoopOptions { UnhandledException = reports.Enqueue } });
        var never = new TaskCompletionSource();
        int rejections = 0;
        await using var server = new StreamServer(group, LoopNet.AnyPort, HelloThenHoldAsync)
        {
            MaxConnections = 2, // one per loop
            RejectTimeout = TimeSpan.FromMilliseconds(50),
            OnRejected = c => Interlocked.Increment(ref rejections) % 2 == 0
                ? throw new InvalidOperationException("rejection failed")
                : never.Task, // never ends on its own: the timeout ends it
        };
        server.Start();

        // Fill both loops (the kernel picks the loop: connect until two are served).
        var clients = new List<Socket>();
        try
        {
            int served = 0, turnedAway = 0;
            for (int i = 0; i < 1000 && (served < 2 || turnedAway < 40); i++)
            {
                Socket client = await ConnectAsync(server.LocalEndPoint);
                clients.Add(client);
                if (await client.ReceiveAsync(new byte[1]).WaitAsync(s_bound) == 1)
                {
                    served++;
                }
                else
                {
                    turnedAway++;
                }
            }

            Assert.Equal(2, served);
            Assert.True(turnedAway >= 40, $"turned away {turnedAway}");
            Assert.Equal(2, server.ConnectionCount);
            Assert.Equal(turnedAway, server.RejectedCount);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static async Task HelloThenHoldAsync(StreamConnection connection, CancellationToken cancellationToken)
    {
        await connection.SendAsync("h"u8.ToArray(), cancellationToken);
        await connection.ReceiveAsync(new byte[1], cancellationToken); // until the peer closes, or killed
    }

    private static async Task<Socket> ConnectAsync(EndPoint endpoint)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint).WaitAsync(s_bound);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<int> ReceiveToEndAsync(Socket socket)
    {
        var buffer = new byte[16];
        int total = 0, n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0)
        {
            total += n;
        }

        return total;
    }
}
