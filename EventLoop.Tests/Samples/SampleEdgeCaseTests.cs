using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Tests.Samples.CommandLine;

namespace EventLoop.Tests.Samples;

/// <summary>
/// Edge cases found by running the samples as a user does: the command line with real arguments,
/// a real peer on loopback, and the server stopped with SIGTERM.
/// </summary>
public sealed class SampleEdgeCaseTests
{
    // Liveness bound only: every reply here comes in well under a second.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    /// <summary>Waits for "… listening on 127.0.0.1:PORT (Ctrl+C to stop)" and returns PORT.</summary>
    private static int ListeningPort(SampleProcess server)
    {
        string line = server.WaitForOutputLine(l => l.Contains("listening on 127.0.0.1:", StringComparison.Ordinal));
        string rest = line[(line.IndexOf("127.0.0.1:", StringComparison.Ordinal) + "127.0.0.1:".Length)..];
        return int.Parse(rest[..rest.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Sends <paramref name="request"/> and reads one reply: a line, or a bulk string's header and body.</summary>
    private static async Task<string> RequestAsync(Socket socket, string request)
    {
        using var timeout = new CancellationTokenSource(s_bound);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, timeout.Token);
        var reply = new StringBuilder();
        byte[] one = new byte[1];
        int? bodyLeft = null;
        while (await socket.ReceiveAsync(one, SocketFlags.None, timeout.Token) == 1)
        {
            reply.Append((char)one[0]);
            if (one[0] != (byte)'\n')
            {
                continue;
            }

            if (bodyLeft is null && reply[0] == '$')
            {
                int length = int.Parse(reply.ToString(1, reply.Length - 3), System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    break;
                }

                bodyLeft = reply.Length + length + 2;
                continue;
            }

            if (bodyLeft is null || reply.Length >= bodyLeft)
            {
                break;
            }
        }

        return reply.ToString();
    }

    [Fact]
    public async Task CacheServerShards2MaxClients1_SecondAndThirdClientsGetRedisRefusal()
    {
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--shards", "2", "--max-clients", "1");
        int port = ListeningPort(server);

        using Socket first = await ConnectAsync(port);
        Assert.Equal("+PONG\r\n", await RequestAsync(first, "PING\r\n"));
        using Socket second = await ConnectAsync(port);
        Assert.Equal("-ERR max number of clients reached\r\n", await RequestAsync(second, "PING\r\n"));
        using Socket third = await ConnectAsync(port);
        Assert.Equal("-ERR max number of clients reached\r\n", await RequestAsync(third, "PING\r\n"));

        string info = await RequestAsync(first, "INFO clients\r\n");
        Assert.Contains("maxclients:1\r\n", info, StringComparison.Ordinal);
        Assert.Contains("connected_clients:1\r\n", info, StringComparison.Ordinal);
        Assert.Contains("rejected_connections:2\r\n", await RequestAsync(first, "INFO stats\r\n"), StringComparison.Ordinal);

        server.Terminate();
        Assert.Equal(0, server.WaitForExit());
        Assert.Equal(string.Empty, server.Error);
    }

    [Fact]
    public async Task CacheServerShards2_InfoKeyspace_CountsEveryShardsKeysAsDbsizeDoes()
    {
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--shards", "2");
        int port = ListeningPort(server);

        using Socket client = await ConnectAsync(port);
        string keys = string.Join(' ', Enumerable.Range(0, 20).Select(i => $"key:{i} v"));
        Assert.Equal("+OK\r\n", await RequestAsync(client, $"MSET {keys}\r\n"));
        Assert.Equal(":1\r\n", await RequestAsync(client, "EXPIRE key:0 1000\r\n"));
        Assert.Equal(":1\r\n", await RequestAsync(client, "EXPIRE key:7 1000\r\n"));
        Assert.Equal(":1\r\n", await RequestAsync(client, "EXPIRE key:13 1000\r\n"));
        Assert.Equal(":20\r\n", await RequestAsync(client, "DBSIZE\r\n"));

        Assert.Contains("db0:keys=20,expires=3,avg_ttl=0\r\n", await RequestAsync(client, "INFO keyspace\r\n"), StringComparison.Ordinal);
        Assert.Contains("db0:keys=20,expires=3,avg_ttl=0\r\n", await RequestAsync(client, "INFO\r\n"), StringComparison.Ordinal);

        server.Terminate();
        Assert.Equal(0, server.WaitForExit());
    }

    [Fact]
    public async Task CacheServerShards2MaxKeys1_MSetRefusedWithOom_LeavesEveryKeyAsItWas()
    {
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--shards", "2", "--max-keys", "1");
        int port = ListeningPort(server);

        // One key per shard fills both ("{0}" and "{1}" hash to different shards: slots 13907 and 9842).
        using Socket client = await ConnectAsync(port);
        Assert.Equal("+OK\r\n", await RequestAsync(client, "SET {0}a old\r\n"));
        Assert.Equal("+OK\r\n", await RequestAsync(client, "SET {1}a old\r\n"));

        // Each MSET overwrites a key on one shard and adds one on the other, which is full.
        Assert.StartsWith("-OOM ", await RequestAsync(client, "MSET {0}a new {1}b new\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("-OOM ", await RequestAsync(client, "MSET {1}a new {0}b new\r\n"), StringComparison.Ordinal);

        Assert.Equal("$3\r\nold\r\n", await RequestAsync(client, "GET {0}a\r\n"));
        Assert.Equal("$3\r\nold\r\n", await RequestAsync(client, "GET {1}a\r\n"));
        Assert.Equal(":2\r\n", await RequestAsync(client, "DBSIZE\r\n"));
        Assert.Equal("+OK\r\n", await RequestAsync(client, "MSET {0}a new {1}a new\r\n"));
        Assert.Equal("$3\r\nnew\r\n", await RequestAsync(client, "GET {1}a\r\n"));

        server.Terminate();
        Assert.Equal(0, server.WaitForExit());
    }
}
