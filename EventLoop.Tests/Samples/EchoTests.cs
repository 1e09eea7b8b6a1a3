using System.Net;
using EventLoop.Net;
using EventLoop.Samples.Echo;
using EventLoop.Tests.Core;
using EventLoop.Tests.Net;

namespace EventLoop.Tests.Samples;

/// <summary>The echo server and client together on one loop, over loopback.</summary>
public sealed class EchoTests
{
    private static readonly IPEndPoint s_anyPort = new(IPAddress.Loopback, 0);

    [Fact]
    public void Client_RequestsSharedOverConnections_AllEchoedAndPrinted()
    {
        using var loop = new Loop();
        var output = new StringWriter();

        EchoStats stats = loop.Run(async () =>
        {
            await using StreamServer server = EchoServer.Create(loop, s_anyPort, log: null);
            server.Start();
            EchoStats result = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 50, Connections = 7, Quiet = false }, output);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            return result;
        });

        Assert.True(stats.AllSucceeded, stats.FirstError);
        Assert.Equal(7, stats.Connections);
        Assert.True(stats.P50 <= stats.P99);
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"Received[{i}]:'hello girl'"), lines.Order(StringComparer.Ordinal).OrderBy(l => l.Length));
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Server_NotQuiet_LogsWhatItReceives()
    {
        using var loop = new Loop();
        var log = new StringWriter();

        loop.Run(async () =>
        {
            await using StreamServer server = EchoServer.Create(loop, s_anyPort, log);
            server.Start();
            EchoStats stats = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 2, Connections = 1, Message = "hi\n" }, TextWriter.Null);
            Assert.True(stats.AllSucceeded);
            await server.StopAsync(TimeSpan.FromSeconds(1));
        });

        Assert.Contains("recv: hi\\n", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Server_BufferSize_ReceivesInChunksOfThatSize()
    {
        using var loop = new Loop();
        var log = new StringWriter();

        loop.Run(async () =>
        {
            await using StreamServer server = EchoServer.Create(loop, s_anyPort, log, bufferSize: 4);
            server.Start();
            EchoStats stats = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 1, Connections = 1 }, TextWriter.Null);
            Assert.True(stats.AllSucceeded, stats.FirstError);
            await server.StopAsync(TimeSpan.FromSeconds(1));
        });

        // One 10-byte "hello girl" segment, read 4 bytes at a time.
        Assert.Equal(["recv: hell", "recv: o gi", "recv: rl"], log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(EchoServer.MaxBufferSize)]
    public void Server_QuietWithBufferSize_EchoesEveryRequest(int bufferSize)
    {
        using var loop = new Loop();

        EchoStats stats = loop.Run(async () =>
        {
            await using StreamServer server = EchoServer.Create(loop, s_anyPort, log: null, bufferSize);
            server.Start();
            EchoStats result = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 20, Connections = 3 }, TextWriter.Null);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            return result;
        });

        Assert.True(stats.AllSucceeded, stats.FirstError);
        Assert.Equal(20, stats.Succeeded);
        LoopAssert.NoLiveHandles(loop);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(EchoServer.MaxBufferSize + 1)]
    public void Create_BufferSizeOutOfRange_Throws(int bufferSize)
    {
        using var loop = new Loop();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => EchoServer.Create(loop, s_anyPort, log: null, bufferSize));

        Assert.Equal("bufferSize", error.ParamName);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Server_QuietWarmRoundTrip_AllocatesNothing()
    {
        using var loop = new Loop();
        using StreamServer server = EchoServer.Create(loop, s_anyPort, log: null);
        server.Start();
        using StreamConnection client = loop.Run(() => loop.ConnectAsync(server.LocalEndPoint));
        LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);
    }

    [Fact]
    public void Server_ClientSendsAndHalfClosesAtOnce_GetsTheEchoAndEndOfStream()
    {
        using var loop = new Loop();

        byte[] reply = loop.Run(async () =>
        {
            await using StreamServer server = EchoServer.Create(loop, s_anyPort, log: null);
            server.Start();
            using StreamConnection client = await loop.ConnectAsync(server.LocalEndPoint);

            // Both before the server reads: the data and the FIN may reach it in one event.
            await client.SendAsync("bye"u8.ToArray());
            client.ShutdownSend();
            var all = new MemoryStream();
            byte[] buffer = new byte[16];
            int n;
            while ((n = await client.ReceiveAsync(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
            }

            return all.ToArray();
        });

        Assert.Equal("bye"u8.ToArray(), reply);
    }

    [Fact]
    public void Client_NoServer_CountsEveryRequestAsAnError()
    {
        using var loop = new Loop();

        EchoStats stats = loop.Run(async () =>
        {
            // Bind then close to get a port that nobody listens on.
            EndPoint closed;
            using (StreamListener listener = loop.Listen(s_anyPort))
            {
                closed = listener.LocalEndPoint;
            }

            return await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = closed, Requests = 10, Connections = 3 }, TextWriter.Null);
        });

        Assert.Equal(10, stats.Errors);
        Assert.Equal(0, stats.Succeeded);
        Assert.NotNull(stats.FirstError);
        Assert.False(stats.AllSucceeded);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Client_ServerThatClosesEarly_CountsTheLostShare()
    {
        using var loop = new Loop();

        // Echoes one message per connection, then closes.
        EchoStats stats = RunAgainstServerThatEchoesOnce(loop, static (_, _, _) => Task.CompletedTask, TimeSpan.FromSeconds(10));

        Assert.Equal(2, stats.Succeeded);
        Assert.Equal(6, stats.Errors);
    }

    [Fact]
    public void Client_ServerThatFallsSilent_FailsTheUnansweredShareAfterTheTimeout()
    {
        using var loop = new Loop();

        // Echoes one message per connection, then reads on and never answers again.
        EchoStats stats = RunAgainstServerThatEchoesOnce(
            loop,
            static async (connection, buffer, ct) =>
            {
                while (await connection.ReceiveAsync(buffer, ct) > 0)
                {
                }
            },
            TimeSpan.FromSeconds(1));

        Assert.Equal(2, stats.Succeeded);
        Assert.Equal(6, stats.Errors);
        Assert.Matches("^request [15]: no reply within 1 s$", stats.FirstError);
        LoopAssert.NoLiveHandles(loop);
    }

    /// <summary>8 requests over 2 connections against a server that echoes the first message of each, then does <paramref name="then"/>.</summary>
    private static EchoStats RunAgainstServerThatEchoesOnce(Loop loop, Func<StreamConnection, byte[], CancellationToken, Task> then, TimeSpan timeout) =>
        loop.Run(async () =>
        {
            await using var server = new StreamServer(loop, s_anyPort, async (connection, ct) =>
            {
                byte[] buffer = new byte[64];
                int n = await connection.ReceiveAsync(buffer, ct);
                await connection.SendAsync(buffer.AsMemory(0, n), ct);
                await then(connection, buffer, ct);
            });
            server.Start();
            EchoStats result = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 8, Connections = 2, Timeout = timeout }, TextWriter.Null);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            return result;
        });

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Client_TimeoutNotPositive_Throws(int seconds)
    {
        using var loop = new Loop();
        var options = new EchoClientOptions { EndPoint = s_anyPort, Timeout = TimeSpan.FromSeconds(seconds) };

        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Run(() => EchoClient.RunAsync(loop, options, TextWriter.Null)));
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Client_WrongEcho_IsAnError()
    {
        using var loop = new Loop();

        EchoStats stats = loop.Run(async () =>
        {
            await using var server = new StreamServer(loop, s_anyPort, async (connection, ct) =>
            {
                byte[] buffer = new byte[64];
                int n;
                while ((n = await connection.ReceiveAsync(buffer, ct)) > 0)
                {
                    buffer.AsSpan(0, n).Reverse();
                    await connection.SendAsync(buffer.AsMemory(0, n), ct);
                }
            });
            server.Start();
            EchoStats result = await EchoClient.RunAsync(loop, new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 3, Connections = 1 }, TextWriter.Null);
            await server.StopAsync(TimeSpan.FromSeconds(1));
            return result;
        });

        Assert.Equal(3, stats.Errors);
        Assert.Contains("differs", stats.FirstError, StringComparison.Ordinal);
    }
}
