using EventLoop.Tests.Core;
using EventLoop.Tests.Net;

namespace EventLoop.Tests.Polling;

/// <summary>
/// A loop that has nothing registered still submits and reaps the requests a driver has in flight
/// on its ring (<see cref="CompletionIo"/>) when it is driven with zero-timeout iterations, as a
/// host does: the poll it skips when nothing could be ready is not skipped for them.
/// </summary>
public sealed class RingRequestsOnAnIdleLoopTests
{
    [Fact]
    public void ReceiveInFlight_NothingRegistered_ZeroTimeoutIterationsReapIt()
    {
        using Loop? loop = CompletionIoTests.CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new SocketPair();
        pair.Right.Send("ready"u8);
        int result = int.MinValue;
        CompletionRequest request = io.CreateRequest(new Handler(r => result = r));
        byte[] buffer = new byte[16];
        request.Receive(pair.Left.SafeHandle, buffer);

        DateTime end = DateTime.UtcNow.AddSeconds(10);
        while (result == int.MinValue && DateTime.UtcNow < end)
        {
            loop.RunOnce(TimeSpan.Zero);
        }

        Assert.Equal(5, result);
        Assert.Equal("ready"u8.ToArray(), buffer[..5]);
    }

    private sealed class Handler(Action<int> onCompleted) : ICompletionHandler
    {
        public void OnCompleted(CompletionRequest request, int result) => onCompleted(result);
    }
}
