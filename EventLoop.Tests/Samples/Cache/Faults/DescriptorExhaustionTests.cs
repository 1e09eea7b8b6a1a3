using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>
/// The process runs out of descriptors: the server neither crashes nor spins, the clients it could
/// not accept are served once descriptors free up, and a server started under a low limit plans
/// its client limit to fit (Redis's <c>maxclients</c> lowered to the descriptor limit minus a reserve).
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class DescriptorExhaustionTests
{
    private static int HighestOpenDescriptor() =>
        Directory.GetFiles("/proc/self/fd").Max(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture));

    [Fact]
    public void DescriptorsRunOut_ClientsReleased_TheRestAreServed()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            await CacheFaultHarness.AssertServesAsync(loop, server);
            Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong original, out _));
            var clients = new List<RespClient>();
            try
            {
                // Room for a few dozen connections (two descriptors each: both ends live in this process).
                Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit((ulong)HighestOpenDescriptor() + 48));
                while (clients.Count < 1000)
                {
                    try
                    {
                        clients.Add(await RespClient.ConnectAsync(loop, server.LocalEndPoint));
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TooManyOpenSockets)
                    {
                        break;
                    }
                }

                Assert.InRange(clients.Count, 1, 999);

                // Free half: the server accepts what waited in its backlog and serves everyone left.
                int half = clients.Count / 2;
                clients.Take(half).ToList().ForEach(c => c.Dispose());
                clients.RemoveRange(0, half);
                foreach (RespClient client in clients)
                {
                    Assert.Equal("PONG", (await client.CommandAsync("PING")).ToString());
                }
            }
            finally
            {
                Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(original));
                clients.ForEach(c => c.Dispose());
            }

            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Fact]
    public void Start_UnderALowDescriptorLimit_ClientLimitFitsBelowIt()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong original, out _));
        using var loop = new Loop();
        int effective = 0;
        ulong lowered = 0;
        loop.Run(async () =>
        {
            var server = new CacheServer(loop, new IPEndPoint(IPAddress.Loopback, 0));
            try
            {
                lowered = (ulong)HighestOpenDescriptor() + 200;
                Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(lowered));
                server.Start();
                effective = server.EffectiveMaxClients;
            }
            finally
            {
                Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(original));
                await server.StopAsync(TimeSpan.Zero);
            }
        });

        // Redis's rule: the limit minus what is open minus a reserve of 32, never the default 10,000.
        Assert.InRange(effective, 1, (int)lowered - ClientLimit.ReservedDescriptors);
    }
}
