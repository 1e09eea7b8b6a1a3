using System.Net.Sockets;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>
/// A burst of connections that comes and goes: the server gives the heap back once (one compacting,
/// decommitting collection) when the count has stayed low for a second.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class BurstMemoryTests
{
    [Fact]
    public void BurstCloses_CountStaysLow_HeapTrimmedOnce()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            int burst = CacheServer.TrimConnectionDrop + 100;
            List<Socket> sockets = await Task.Run(() => Enumerable.Range(0, burst).Select(_ => CacheFaultHarness.ConnectRaw(server.LocalEndPoint)).ToList());
            try
            {
                await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount == burst);
                Assert.Equal(0, server.HeapTrims);
            }
            finally
            {
                await Task.Run(() => sockets.ForEach(s => s.Dispose()));
            }

            await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount == 0);
            await CacheFaultHarness.WaitUntilAsync(loop, () => server.HeapTrims == 1);
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }
}
