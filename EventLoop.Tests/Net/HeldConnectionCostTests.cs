using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// What a <see cref="StreamServer"/> allocates for a connection it holds while the handler waits
/// for data: the bound behind "memory per held connection" (docs/BENCHMARKS.md). Counted on the
/// loop thread, exact, on the epoll back end whatever the pass: the ring keeps more per
/// connection by design.
/// </summary>
public sealed class HeldConnectionCostTests
{
    [Fact]
    public void HeldConnection_WaitingInAReceive_AllocatesItsObjectsOnly()
    {
        // What it allocates: the accepted connection (StreamConnection, LoopSocket, SocketHandle,
        // ReadinessWatch), its handler greenlet with its context, ExecutionContext, side object and
        // kill token, the handler's state machine and box, the receive it waits in, the server's
        // per-connection listener and the group table's growth, amortized. 1,096 B on .NET 10 as
        // `dotnet test` builds it; 1,168 B when the io_uring state sat in every connection and
        // every wait kept its token registration inline (48 B and 24 B).
        const int Connections = 200, MostBytesPerConnection = 1_100;
        long quietest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            using var loop = new Loop(new LoopOptions { Poller = PollerKind.Epoll });
            var server = new StreamServer(loop, new IPEndPoint(IPAddress.Loopback, 0), static async (c, ct) =>
            {
                await c.ReceiveAsync(Memory<byte>.Empty, ct);
            })
            { Backlog = Connections };
            server.Start();
            var clients = new List<Socket>(Connections);
            try
            {
                for (int i = 0; i < Connections; i++)
                {
                    var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    clients.Add(client);
                    client.Connect(server.LocalEndPoint); // into the accept queue: the loop is not running
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 1_000 && server.ConnectionCount < Connections; i++)
                {
                    loop.RunOnce(TimeSpan.FromMilliseconds(10));
                }

                for (int i = 0; i < 4; i++)
                {
                    loop.RunOnce(TimeSpan.Zero); // every handler has started and waits
                }

                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(Connections, server.ConnectionCount);
                quietest = Math.Min(quietest, allocated / Connections);
            }
            finally
            {
                foreach (Socket client in clients)
                {
                    client.Dispose();
                }

                loop.Run(() => server.StopAsync(TimeSpan.Zero));
            }
        }

        Assert.True(quietest <= MostBytesPerConnection, $"{quietest} bytes per held connection (at most {MostBytesPerConnection})");
    }
}
