using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// The <see cref="Stream"/> from <see cref="StreamConnection.AsStream"/> against what a .NET user
/// takes for granted of one (<c>NetworkStream</c> is the reference): failures, empty buffers,
/// cancellation, capabilities, dispose, and use from the thread pool.
/// </summary>
public sealed class StreamAdapterEdgeCaseTests
{
    [Fact]
    public void WarmEchoThroughTheStream_OnTheLoop_AllocatesNothing()
    {
        using Loop loop = LoopNet.Create();
        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        using StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint));
        Greenlet server = loop.Spawn(async () =>
        {
            using StreamConnection accepted = await listener.AcceptAsync();
            Stream stream = accepted.AsStream();
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
            }
        });
        LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);
        client.ShutdownSend();
        LoopNet.Run(loop, async () => await server);
    }
}
