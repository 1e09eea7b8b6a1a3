using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class StreamServerGroupTests
{
    // Liveness bound only.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_FromTestThread_EveryLoopListens_ConnectionsStayOnAcceptingLoop()
    {
        await using var group = new LoopGroup(2, new LoopGroupOptions { Name = "srv" });
        await using var server = new StreamServer(group, LoopNet.AnyPort, ReplyWithLoopName);
        server.Start();
        EndPoint endpoint = server.LocalEndPoint;

        string[] replies = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => AskAsync(endpoint))).WaitAsync(s_bound);

        // SO_REUSEPORT spreads by a hash of the peer: 64 connections all on one listener has a
        // chance of 2^-63 if both listen.
        Assert.All(replies, r => Assert.Matches("^srv-[01] same$", r));
        Assert.Contains("srv-0 same", replies);
        Assert.Contains("srv-1 same", replies);
        await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(s_bound);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task Start_UnixEndpoint_OneAcceptorHandsConnectionsRoundRobin()
    {
        string path = LoopNet.TempSocketPath();
        await using var group = new LoopGroup(2, new LoopGroupOptions { Name = "ux" });
        await using var server = new StreamServer(group, new UnixDomainSocketEndPoint(path), ReplyWithLoopName);
        server.Start();

        var replies = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            replies.Add(await AskAsync(server.LocalEndPoint).WaitAsync(s_bound));
        }

        Assert.All(replies, r => Assert.EndsWith(" same", r));
        Assert.Equal(5, replies.Count(r => r == "ux-0 same"));
        Assert.Equal(5, replies.Count(r => r == "ux-1 same"));
        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task StopAsync_KillsHandlersOnEveryLoop_AndStopsAccepting()
    {
        await using var group = new LoopGroup(2);
        int running = 0;
        var allRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Clients = 16;
        await using var server = new StreamServer(group, LoopNet.AnyPort, async (c, ct) =>
        {
            if (Interlocked.Increment(ref running) == Clients)
            {
                allRunning.TrySetResult();
            }

            await c.ReceiveAsync(new byte[1], ct); // until killed
        });
        server.Start();
        EndPoint endpoint = server.LocalEndPoint;
        var clients = new List<Socket>();
        for (int i = 0; i < Clients; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint);
            clients.Add(socket);
        }

        await allRunning.Task.WaitAsync(s_bound);
        Assert.Equal(Clients, server.ConnectionCount);
        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);

        Assert.Equal(0, server.ConnectionCount);
        foreach (Socket socket in clients)
        {
            Assert.Equal(0, await socket.ReceiveAsync(new byte[1]).WaitAsync(s_bound)); // closed by the server
            socket.Dispose();
        }

        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(endpoint).WaitAsync(s_bound));
    }

    [Fact]
    public async Task Start_FromGreenletOfTheGroup_Works()
    {
        await using var group = new LoopGroup(2);
        StreamServer server = await group[1].InvokeAsync(() =>
        {
            var s = new StreamServer(group, LoopNet.AnyPort, ReplyWithLoopName);
            s.Start();
            return Task.FromResult(s);
        }).WaitAsync(s_bound);

        Assert.EndsWith(" same", await AskAsync(server.LocalEndPoint).WaitAsync(s_bound));
        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
    }

    [Fact]
    public async Task Start_AddressInUse_ThrowsAndStopsCleanly()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(LoopNet.AnyPort);
        occupant.Listen();
        await using var group = new LoopGroup(2);
        var server = new StreamServer(group, occupant.LocalEndPoint!, ReplyWithLoopName);

        SocketException error = Assert.Throws<SocketException>(server.Start);
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        await server.StopAsync(TimeSpan.Zero).WaitAsync(s_bound);
        await server.DisposeAsync();
        Assert.Equal(0, server.ConnectionCount);
    }

    private static async Task ReplyWithLoopName(StreamConnection connection, CancellationToken cancellationToken)
    {
        string where = Loop.Current == connection.Loop ? "same" : "other";
        await connection.SendAsync(Encoding.ASCII.GetBytes($"{Loop.Current!.Name} {where}"), cancellationToken);
    }

    private static async Task<string> AskAsync(EndPoint endpoint)
    {
        using var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        var buffer = new byte[256];
        int total = 0;
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(total));
            if (n == 0)
            {
                return Encoding.ASCII.GetString(buffer, 0, total);
            }

            total += n;
        }
    }
}
