using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>Redis's <c>maxclients</c>: at the limit a client is answered and closed at once, never left in the backlog.</summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ConnectionLimitTests
{
    [Fact]
    public void MaxClients10_EleventhClient_GetsRedisErrorAndIsClosed_OthersKeepBeingServed()
    {
        CacheFaultHarness.Run(
            async (loop, server) =>
            {
                var clients = new List<RespClient>();
                try
                {
                    for (int i = 0; i < 10; i++)
                    {
                        RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
                        clients.Add(client);
                        Assert.Equal("PONG", (await client.CommandAsync("PING")).ToString());
                    }

                    using RespClient eleventh = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
                    RespValue refusal = await eleventh.ReadReplyAsync();

                    Assert.Equal(RespValueKind.Error, refusal.Kind);
                    Assert.Equal("ERR max number of clients reached", refusal.Text);
                    Assert.True(await eleventh.WaitForCloseAsync());
                    Assert.Equal(10, server.ConnectionCount);
                    foreach (RespClient client in clients)
                    {
                        Assert.Equal("PONG", (await client.CommandAsync("PING")).ToString());
                    }

                    string info = (await clients[0].CommandAsync("INFO", "clients", "stats")).AsString() ?? string.Empty;
                    Assert.Contains("connected_clients:10\r\n", info, StringComparison.Ordinal);
                    Assert.Contains("maxclients:10\r\n", info, StringComparison.Ordinal);
                    Assert.Contains("rejected_connections:1\r\n", info, StringComparison.Ordinal);
                }
                finally
                {
                    clients.ForEach(c => c.Dispose());
                }
            },
            maxClients: 10);
    }

    [Fact]
    public void MaxClients_AClientLeaves_TheNextIsServed()
    {
        CacheFaultHarness.Run(
            async (loop, server) =>
            {
                RespClient first = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
                using RespClient second = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
                Assert.Equal("PONG", (await first.CommandAsync("PING")).ToString());
                Assert.Equal("PONG", (await second.CommandAsync("PING")).ToString());

                first.Dispose();
                await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount < 2);

                await CacheFaultHarness.AssertServesAsync(loop, server);
            },
            maxClients: 2);
    }

    [Fact]
    public void MaxClients_ManyRefusedAtOnce_EachGetsTheErrorAndNoneLeaks()
    {
        CacheFaultHarness.Run(
            async (loop, server) =>
            {
                using RespClient held = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
                Assert.Equal("PONG", (await held.CommandAsync("PING")).ToString());

                string[] replies = await Task.Run(() =>
                {
                    var sockets = Enumerable.Range(0, 200).Select(_ => CacheFaultHarness.ConnectRaw(server.LocalEndPoint)).ToList();
                    try
                    {
                        return sockets.Select(CacheFaultHarness.ReadToClose).ToArray();
                    }
                    finally
                    {
                        sockets.ForEach(s => s.Dispose());
                    }
                });

                Assert.All(replies, r => Assert.Equal("-ERR max number of clients reached\r\n", r));
                Assert.Equal("PONG", (await held.CommandAsync("PING")).ToString());
            },
            maxClients: 1);
    }

    [Fact]
    public void Fit_LimitAboveTheDescriptorLimit_LoweredToLeaveTheReserve()
    {
        int fitted = ClientLimit.Fit(int.MaxValue);

        Assert.InRange(fitted, 1, int.MaxValue - 1);
        Assert.Equal(10, ClientLimit.Fit(10));
    }
}
