using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventLoop.Tests.Samples.CommandLine;

/// <summary>
/// The server commands run as processes the way the README shows them (<c>--port 0</c> here, so
/// the kernel picks a free port and the server prints it), with a real client, then stopped with
/// SIGTERM as a service manager would: each must have served, and must exit 0.
/// </summary>
public sealed class ServerCommandLineTests
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Waits for "… listening on 127.0.0.1:PORT (Ctrl+C to stop)" and returns PORT.</summary>
    private static string ListeningPort(SampleProcess server)
    {
        string line = server.WaitForOutputLine(l => l.Contains("listening on 127.0.0.1:", StringComparison.Ordinal));
        string rest = line[(line.IndexOf("127.0.0.1:", StringComparison.Ordinal) + "127.0.0.1:".Length)..];
        return rest[..rest.IndexOf(' ', StringComparison.Ordinal)];
    }

    private static int StopGracefully(SampleProcess server)
    {
        server.Terminate();
        return server.WaitForExit();
    }

    private static async Task<string> ReadAsync(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        int filled = 0;
        while (filled < length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, filled);
    }

    /// <summary>Reads exactly <paramref name="lines"/> CRLF-terminated lines (one RESP reply; the client sends the next request only after it).</summary>
    private static async Task<string> ReadLinesAsync(Socket socket, int lines)
    {
        var text = new StringBuilder();
        byte[] one = new byte[1];
        while (lines > 0 && await socket.ReceiveAsync(one, SocketFlags.None) == 1)
        {
            text.Append((char)one[0]);
            if (one[0] == (byte)'\n')
            {
                lines--;
            }
        }

        return text.ToString();
    }

    [Fact]
    public void EchoClientWithHostLocalhost_AgainstEchoServer_EveryEchoMatchesAndBothExit0()
    {
        using SampleProcess server = SampleProcess.Start("echo-server", "--port", "0");
        string port = ListeningPort(server);

        (int clientExit, string clientOutput, string clientError) = SampleProcess.Run("echo-client", "--host", "localhost", "--port", port, "--requests", "5");

        Assert.Equal(0, clientExit);
        Assert.Equal(string.Empty, clientError);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"Received[{i}]:'hello girl'").Order(StringComparer.Ordinal), Lines(clientOutput).Order(StringComparer.Ordinal));
        Assert.Equal(0, StopGracefully(server));
        Assert.Contains("recv: hello girl", server.Output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, server.Error);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("50")] // a server that spins before it sleeps
    public void EchoClientQuiet_AgainstEchoServerQuiet_PrintsTheSummaryOnly(string spin)
    {
        using SampleProcess server = SampleProcess.Start("echo-server", "--port", "0", "--quiet", "--spin", spin);
        string port = ListeningPort(server);

        (int clientExit, string clientOutput, string clientError) = SampleProcess.Run("echo-client", "--port", port, "--requests", "200", "--connections", "4", "--quiet");

        Assert.Equal(0, clientExit);
        Assert.Equal(string.Empty, clientError);
        Assert.Contains("requests: 200, errors: 0", Assert.Single(Lines(clientOutput)), StringComparison.Ordinal);
        Assert.Equal(0, StopGracefully(server));
        Assert.Single(Lines(server.Output));
        Assert.Equal(string.Empty, server.Error);
    }

    [Fact]
    public async Task SelectorsEcho_WithAClient_EchoesAndLogsTheConnectionThenExits0()
    {
        using SampleProcess server = SampleProcess.Start("selectors-echo", "--port", "0");
        int port = int.Parse(ListeningPort(server), System.Globalization.CultureInfo.InvariantCulture);

        string echoed;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await client.SendAsync("hello selectors"u8.ToArray(), SocketFlags.None);
            echoed = await ReadAsync(client, "hello selectors".Length);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(string.Empty, await ReadAsync(client, 1));
        }

        server.WaitForOutputLine(l => l.StartsWith("closing ", StringComparison.Ordinal));
        Assert.Equal(0, StopGracefully(server));
        Assert.Equal("hello selectors", echoed);
        string[] lines = Lines(server.Output);
        Assert.Contains(lines, l => l.StartsWith("accepted 127.0.0.1:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("echoing 15 bytes to 127.0.0.1:", StringComparison.Ordinal));
        Assert.Equal(string.Empty, server.Error);
    }

    [Fact]
    public async Task CacheServerWithMaxKeys_ARespClient_StoresUpToTheLimitThenRefusesAndExits0()
    {
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--max-keys", "2");
        int port = int.Parse(ListeningPort(server), System.Globalization.CultureInfo.InvariantCulture);

        var replies = new List<string>();
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            async Task Command(string request, int replyLines)
            {
                await client.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
                replies.Add(await ReadLinesAsync(client, replyLines));
            }

            await Command("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nv1\r\n", 1);
            await Command("*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2\r\nv2\r\n", 1);
            await Command("*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$2\r\nv3\r\n", 1);
            await Command("*2\r\n$3\r\nGET\r\n$1\r\na\r\n", 2);
            await Command("*1\r\n$6\r\nDBSIZE\r\n", 1);
        }

        Assert.Equal(0, StopGracefully(server));
        Assert.Equal("+OK\r\n", replies[0]);
        Assert.Equal("+OK\r\n", replies[1]);
        Assert.StartsWith("-OOM ", replies[2], StringComparison.Ordinal);
        Assert.Equal("$2\r\nv1\r\n", replies[3]);
        Assert.Equal(":2\r\n", replies[4]);
        Assert.Equal(string.Empty, server.Error);
    }

    [Fact]
    public async Task ShardedCacheServerThatSpins_KeysOnBothShards_ServedAndExits0()
    {
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--shards", "2", "--spin", "50");
        int port = int.Parse(ListeningPort(server), System.Globalization.CultureInfo.InvariantCulture);

        string reply;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));

            // "a" and "b" hash to different slots; with two shards at least one is forwarded.
            await client.SendAsync(Encoding.ASCII.GetBytes(
                "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"), SocketFlags.None);
            reply = await ReadLinesAsync(client, 6);
        }

        Assert.Equal(0, StopGracefully(server));
        Assert.Equal("+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n", reply);
        Assert.Equal(string.Empty, server.Error);
    }

    [Fact]
    public async Task CacheServerWithoutSpin_SetThenGet_ServedAndExits0()
    {
        // The cache server spins 50 µs by default; --spin 0 makes it sleep at once.
        using SampleProcess server = SampleProcess.Start("cache-server", "--port", "0", "--spin", "0");
        int port = int.Parse(ListeningPort(server), System.Globalization.CultureInfo.InvariantCulture);

        string reply;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await client.SendAsync(Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), SocketFlags.None);
            reply = await ReadLinesAsync(client, 3);
        }

        Assert.Equal(0, StopGracefully(server));
        Assert.Equal("+OK\r\n$1\r\nv\r\n", reply);
        Assert.Equal(string.Empty, server.Error);
    }

    [Theory]
    [InlineData("cache-server", "-1")]
    [InlineData("echo-server", "10001")]
    public void Server_SpinOutOfRange_IsRefusedWithOneLine(string command, string spin)
    {
        using SampleProcess server = SampleProcess.Start(command, "--port", "0", "--spin", spin);
        Assert.NotEqual(0, server.WaitForExit());
        Assert.Contains("--spin", server.Error, StringComparison.Ordinal);
    }
}
