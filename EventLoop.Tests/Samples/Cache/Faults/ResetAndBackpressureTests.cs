using System.Net.Sockets;
using System.Text;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>
/// Clients that vanish with replies in flight, and one that asks for far more than it reads: the
/// server drops the first cleanly and holds the second back (TCP back-pressure), serving everyone
/// else throughout, without buffering what the reader never takes.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ResetAndBackpressureTests
{
    private const int BigValueLength = 256 * 1024;

    private static async Task StoreValuesAsync(Loop loop, CacheServer server)
    {
        using RespClient client = await RespClient.ConnectAsync(loop, server.LocalEndPoint);
        Assert.Equal("OK", (await client.CommandAsync("SET", "big", new string('b', BigValueLength))).ToString());
        Assert.Equal("OK", (await client.CommandAsync("SET", "small", new string('s', 1024))).ToString());
    }

    private static byte[] Pipeline(int bigGets, int smallGets)
    {
        var text = new StringBuilder();
        for (int i = 0; i < bigGets; i++)
        {
            text.Append("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
        }

        for (int i = 0; i < smallGets; i++)
        {
            text.Append("*2\r\n$3\r\nGET\r\n$5\r\nsmall\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public void ResetStorm_ClientsResetWithLargeRepliesInFlight_OthersServedAndAllConnectionsReleased()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            await StoreValuesAsync(loop, server);
            byte[] requests = Pipeline(bigGets: 8, smallGets: 100);
            using RespClient bystander = await RespClient.ConnectAsync(loop, server.LocalEndPoint);

            for (int wave = 0; wave < 4; wave++)
            {
                await Task.Run(() =>
                {
                    var sockets = Enumerable.Range(0, 50).Select(_ => CacheFaultHarness.ConnectRaw(server.LocalEndPoint)).ToList();
                    foreach (Socket socket in sockets)
                    {
                        socket.Send(requests);
                    }

                    // Read a little of one reply, then reset with the rest in flight.
                    sockets.ForEach(s => CacheFaultHarness.ReadExactly(s, 16));
                    sockets.ForEach(CacheFaultHarness.Reset);
                });

                Assert.Equal(BigValueLength, (await bystander.CommandAsync("GET", "big")).Bytes!.Length);
            }

            await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount == 1);
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Fact]
    public void NonReadingPipeliner_AsksForGigabytes_ServerHoldsItBackAndBuffersLittle()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            await StoreValuesAsync(loop, server);

            // 4,096 GETs of 256 KiB ask for 1 GiB of replies in 120 KiB of requests.
            byte[] requests = Pipeline(bigGets: 4096, smallGets: 0);
            using Socket pipeliner = await Task.Run(() => CacheFaultHarness.ConnectRaw(server.LocalEndPoint));
            pipeliner.ReceiveBufferSize = 64 * 1024;
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            Task sending = Task.Run(() =>
            {
                try
                {
                    pipeliner.Send(requests);
                }
                catch (SocketException)
                {
                    // Closed below while the send was blocked by the server's full window.
                }
                catch (ObjectDisposedException)
                {
                }
            });

            // The server keeps serving others while the pipeliner's replies pile up against its window.
            for (int i = 0; i < 20; i++)
            {
                await CacheFaultHarness.AssertServesAsync(loop, server);
            }

            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

            // Replies are queued by reference and the server stops reading at the high-water mark:
            // what it allocates is far below the 1 GiB asked for (copying would cost that and more).
            Assert.InRange(allocated, 0, 64L * 1024 * 1024);

            string first = await Task.Run(() => CacheFaultHarness.ReadExactly(pipeliner, 16));
            Assert.Equal("$262144\r\nbbbbbbb", first);
            CacheFaultHarness.Reset(pipeliner);
            await sending;
            await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount == 0);
        });
    }
}
