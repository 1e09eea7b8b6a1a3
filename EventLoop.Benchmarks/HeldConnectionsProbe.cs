using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Benchmarks;

/// <summary>
/// Managed memory a <see cref="StreamServer"/> keeps per held connection: clients (plain blocking
/// sockets, connected into the accept queue before the baseline) stay connected and silent while
/// each handler waits in a zero-byte receive; live bytes after a full collection, above the
/// baseline, divided by the count. Run with <c>-- held [count]</c>.
/// </summary>
public static class HeldConnectionsProbe
{
    /// <summary>Runs <paramref name="rounds"/> rounds and prints one line per round.</summary>
    public static void Run(int count = 3000, int rounds = 3)
    {
        Console.WriteLine($"{count:N0} held connections, managed bytes per connection (live after a full GC)");
        for (int round = 0; round < rounds; round++)
        {
            long before = 0;
            Hold(count, () => before = LiveBytes(), () =>
            {
                long after = LiveBytes();
                Console.WriteLine($"round {round + 1}: {(after - before) / (double)count:N0} B per held connection");
            });
        }
    }

    /// <summary>
    /// Holds <paramref name="count"/> connections, each handler waiting in a zero-byte receive,
    /// calls <paramref name="whileHeld"/>, then closes the clients and stops the server.
    /// </summary>
    /// <param name="count">Connections to hold.</param>
    /// <param name="beforeAccept">Runs once the clients are connected into the accept queue, before the server accepts them.</param>
    /// <param name="whileHeld">Runs while every handler waits (the loop is not running then).</param>
    public static void Hold(int count, Action beforeAccept, Action whileHeld)
    {
        ArgumentNullException.ThrowIfNull(beforeAccept);
        ArgumentNullException.ThrowIfNull(whileHeld);
        using var loop = new Loop();
        var server = new StreamServer(loop, new IPEndPoint(IPAddress.Loopback, 0), static async (c, ct) =>
        {
            await c.ReceiveAsync(Memory<byte>.Empty, ct);
        })
        { Backlog = 4096 };
        server.Start();
        EndPoint endPoint = server.LocalEndPoint;
        var clients = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(endPoint); // completes into the accept queue: the loop is not running
            clients.Add(client);
        }

        beforeAccept();
        while (server.ConnectionCount < count)
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }

        for (int i = 0; i < 10; i++)
        {
            loop.RunOnce(TimeSpan.Zero); // every handler has started and waits
        }

        whileHeld();
        foreach (Socket client in clients)
        {
            client.Dispose();
        }

        loop.Run(() => server.StopAsync(TimeSpan.Zero));
    }

    private static long LiveBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
