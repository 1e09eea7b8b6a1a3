using System.Net;
using System.Text;
using EventLoop.Samples.Cache;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples;

/// <summary>The cache server over a real loopback socket, with the loop's own RESP client.</summary>
public sealed class CacheServerTests
{
    private static readonly IPEndPoint s_anyPort = new(IPAddress.Loopback, 0);

    private static void WithServer(Func<Loop, CacheServer, Task> body)
    {
        using var loop = new Loop();
        loop.Run(async () =>
        {
            var server = new CacheServer(loop, s_anyPort);
            server.Start();
            try
            {
                await body(loop, server);
            }
            finally
            {
                await server.StopAsync(TimeSpan.FromSeconds(1));
            }
        });
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void SetGetPexpire_RoundTrip_ExpiresOnTheLoop()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);

            Assert.Equal("OK", (await client.CommandAsync("SET", "k", "v")).ToString());
            Assert.Equal("\"v\"", (await client.CommandAsync("GET", "k")).ToString());
            Assert.Equal("(integer) 1", (await client.CommandAsync("PEXPIRE", "k", "20")).ToString());
            await loop.Sleep(TimeSpan.FromMilliseconds(40));
            Assert.Equal("(nil)", (await client.CommandAsync("GET", "k")).ToString());
        });
    }

    [Fact]
    public void UnreadVolatileKey_IsReclaimedByTheExpiryTimer()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
            await client.CommandAsync("SET", "forgotten", "x", "PX", "10");
            Assert.Equal(1, server.Store.Count);

            // The timer runs every 100 ms; wait for ticks rather than a guessed duration.
            for (int i = 0; i < 50 && server.Store.Count > 0; i++)
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(100));
            }

            Assert.Equal(0, server.Store.Count);
            Assert.True(server.ActivelyExpired >= 1);
        });
    }

    [Fact]
    public void Pipeline_ManyCommandsInOneWrite_RepliesInOrder()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
            var commands = new List<string[]>();
            for (int i = 0; i < 500; i++)
            {
                commands.Add(["SET", $"key:{i}", $"value:{i}"]);
                commands.Add(["GET", $"key:{i}"]);
            }

            commands.Add(["INCR", "counter"]);
            commands.Add(["INCR", "counter"]);

            IReadOnlyList<RespValue> replies = await client.PipelineAsync(commands);

            Assert.Equal(commands.Count, replies.Count);
            for (int i = 0; i < 500; i++)
            {
                Assert.Equal("OK", replies[2 * i].ToString());
                Assert.Equal($"value:{i}", replies[(2 * i) + 1].AsString());
            }

            Assert.Equal(2, replies[^1].Integer);
        });
    }

    [Fact]
    public void LargeValues_PipelinedBeyondTheOutputHighWaterMark_AllArrive()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
            string big = new('z', 256 * 1024);
            await client.CommandAsync("SET", "big", big);

            // 16 x 256 KiB = 4 MiB of replies: more than the 1 MiB high-water mark, so the server pauses and resumes.
            IReadOnlyList<RespValue> replies = await client.PipelineAsync(Enumerable.Repeat(new[] { "GET", "big" }, 16).ToArray());

            Assert.All(replies, r => Assert.Equal(big.Length, r.Bytes!.Length));
        });
    }

    [Fact]
    public void ProtocolError_IsAnsweredThenTheConnectionCloses()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
            await client.SendRawAsync(Encoding.ASCII.GetBytes("*1\r\n$x\r\n"));

            RespValue reply = await client.ReadReplyAsync();

            Assert.Equal(RespValueKind.Error, reply.Kind);
            Assert.StartsWith("ERR Protocol error", reply.Text, StringComparison.Ordinal);
            Assert.True(await client.WaitForCloseAsync());

            // Other clients are unaffected.
            using RespClient other = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
            Assert.Equal("PONG", (await other.CommandAsync("PING")).ToString());
        });
    }

    [Fact]
    public void Quit_RepliesOkAndCloses()
    {
        WithServer(async (loop, server) =>
        {
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);

            Assert.Equal("OK", (await client.CommandAsync("QUIT")).ToString());
            Assert.True(await client.WaitForCloseAsync());
        });
    }

    [Fact]
    public void MaxKeys_NewKeysBeyondTheBound_GetAnError()
    {
        using var loop = new Loop();
        loop.Run(async () =>
        {
            await using var server = new CacheServer(loop, s_anyPort, maxKeys: 1);
            server.Start();
            using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);

            Assert.Equal("OK", (await client.CommandAsync("SET", "a", "1")).ToString());
            Assert.Equal(RespValueKind.Error, (await client.CommandAsync("SET", "b", "2")).Kind);
            Assert.Equal("OK", (await client.CommandAsync("SET", "a", "3")).ToString());
            await server.StopAsync(TimeSpan.FromSeconds(1));
        });
    }
}
