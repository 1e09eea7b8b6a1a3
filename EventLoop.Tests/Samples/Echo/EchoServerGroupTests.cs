using System.Net;
using EventLoop.Net;
using EventLoop.Samples.Echo;

namespace EventLoop.Tests.Samples.Echo;

/// <summary>The echo server over a loop group (<c>echo-server --loops N</c>).</summary>
public sealed class EchoServerGroupTests
{
    [Fact]
    public async Task Server_OverTwoLoops_ClientsOnAnotherLoop_AllEchoed()
    {
        await using var group = new LoopGroup(2, new LoopGroupOptions { Name = "echo" });
        await using StreamServer server = EchoServer.Create(group, new IPEndPoint(IPAddress.Loopback, 0), log: null);
        server.Start();

        using var clientLoop = new Loop();
        EchoStats stats = clientLoop.Run(() => EchoClient.RunAsync(
            clientLoop,
            new EchoClientOptions { EndPoint = server.LocalEndPoint, Requests = 200, Connections = 16, Quiet = true },
            TextWriter.Null));

        Assert.True(stats.AllSucceeded, stats.FirstError);
        await server.StopAsync(TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
