namespace EventLoop.Tests.Net;

/// <summary>
/// What a send through the io_uring ring pins: the connection's copy is pre-pinned memory, so a
/// send takes no GC handle. Runs alone (<see cref="RuntimeEventsCollection"/>): it counts the
/// runtime's GC-handle events for the whole process. Returns at once where the loop has no
/// <see cref="Loop.CompletionIo"/>.
/// </summary>
[Collection(RuntimeEventsCollection.Name)]
public sealed class RingSendPinningTests
{
    [Fact]
    public void WarmSends_PinTheirCopyWithoutAGcHandle()
    {
        RingNet.RunPair(async (loop, client, accepted) =>
        {
            byte[] message = new byte[64];
            byte[] reply = new byte[64];
            async Task RoundTrips(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await client.SendAsync(message);
                    await accepted.ReceiveExactlyAsync(reply);
                    await accepted.SendAsync(reply);
                    await client.ReceiveExactlyAsync(reply);
                }
            }

            await RoundTrips(20);
            using var handles = new PinnedHandleCounter();
            handles.Start();
            await RoundTrips(100);
            int pinned = handles.Stop();

            // Pinning an ordinary array for the ring takes a GC handle per send: 200 here.
            Assert.True(pinned < 20, $"{pinned} pinned GC handles over 200 sends through the ring");
        });
    }
}
