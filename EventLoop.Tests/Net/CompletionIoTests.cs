using EventLoop.Polling;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Net;

/// <summary>
/// Core's completion extension point (<see cref="CompletionIo"/>) driven directly, on a loop of the
/// io_uring back end. Each test returns at once where io_uring or the opcodes are missing.
/// </summary>
public sealed class CompletionIoTests
{
    [Fact]
    public void CompletionIo_IsNullOffIoUring()
    {
        using var loop = new Loop(new LoopOptions { Poller = PollerKind.Poll });
        Assert.Null(loop.CompletionIo);
    }

    [Fact]
    public void Receive_CompletesWithTheBytesInTheBuffer()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new SocketPair();
        var handler = new Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        byte[] buffer = new byte[16];
        request.Receive(pair.Left.SafeHandle, buffer);
        Assert.True(request.IsInFlight);
        Assert.Equal(1, io.InFlight);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Empty(handler.Results);

        pair.Right.Send("hello"u8);
        RunUntil(loop, () => handler.Results.Count == 1);
        Assert.Equal(5, handler.Results[0]);
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
        Assert.False(request.IsInFlight);
        Assert.Equal(0, io.InFlight);
    }

    [Fact]
    public void Send_ThenPeerCloses_ReceiveSeesEndOfStream()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new SocketPair();
        var handler = new Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        request.Send(pair.Left.SafeHandle, "ping"u8.ToArray());
        RunUntil(loop, () => handler.Results.Count == 1);
        Assert.Equal(4, handler.Results[0]);
        byte[] got = new byte[8];
        Assert.Equal(4, pair.Right.Receive(got));

        request.Receive(pair.Left.SafeHandle, new byte[8]);
        pair.Right.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        RunUntil(loop, () => handler.Results.Count == 2);
        Assert.Equal(0, handler.Results[1]);
    }

    [Fact]
    public void TryCancel_Unsubmitted_WithdrawsWithoutTheKernel()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new SocketPair();
        var handler = new Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        request.Receive(pair.Left.SafeHandle, new byte[8]);
        Assert.True(request.TryCancel(out int result));
        Assert.Equal(-125, result);
        Assert.False(request.IsInFlight);
        Assert.False(request.TryCancel(out _));

        pair.Right.Send("x"u8);
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Empty(handler.Results);
        Assert.Equal(1, pair.Left.Receive(new byte[8])); // the withdrawn receive took nothing
    }

    [Fact]
    public void TryCancel_Submitted_EndsItAndTheHandlerIsNotCalled()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using var pair = new SocketPair();
        var handler = new Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        byte[] buffer = new byte[8];
        request.Receive(pair.Left.SafeHandle, buffer);
        loop.RunOnce(TimeSpan.Zero); // submitted: the kernel waits for data
        Assert.True(request.TryCancel(out int result));
        Assert.Equal(-125, result);
        Assert.Equal(0, io.InFlight);

        pair.Right.Send("late"u8);
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Empty(handler.Results);
        Assert.Equal(0, buffer[0]);
        Assert.Equal(4, pair.Left.Receive(new byte[8]));

        // The request is reusable.
        request.Receive(pair.Left.SafeHandle, buffer);
        pair.Right.Send("next"u8);
        RunUntil(loop, () => handler.Results.Count == 1);
        Assert.Equal(4, handler.Results[0]);
    }

    [Fact]
    public void ReceivePooled_Multishot_ReportsEachArrival_AndCancelKeepsWhatCame()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { CanReceivePooled: true } io)
        {
            return;
        }

        using var pair = new SocketPair();
        var handler = new Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        request.ReceivePooled(pair.Left.SafeHandle, multishot: true);
        loop.RunOnce(TimeSpan.Zero);

        pair.Right.Send("one"u8);
        RunUntil(loop, () => handler.Results.Count == 1);
        Assert.True(request.IsInFlight); // still armed
        pair.Right.Send("two"u8);
        RunUntil(loop, () => handler.Results.Count == 2);
        Assert.Equal([3, 3], handler.Results);
        Assert.Equal(2, request.PooledCount);
        Assert.Equal("one"u8.ToArray(), request.PooledData.ToArray());
        request.ReleasePooled();
        Assert.Equal("two"u8.ToArray(), request.PooledData.ToArray());
        request.ReleasePooled();
        Assert.Equal(0, request.PooledCount);

        // Data that arrives before the cancellation is kept in the request, not lost.
        pair.Right.Send("three"u8);
        Assert.True(request.TryCancel(out int result));
        Assert.False(request.IsInFlight);
        Assert.True(result is -125 or 0, result.ToString());
        byte[] rest = new byte[8];
        int fromPool = request.PooledCount > 0 ? request.PooledData.Length : 0;
        request.ReleasePooled();
        int fromSocket = fromPool == 5 ? 0 : pair.Left.Receive(rest);
        Assert.Equal(5, fromPool + fromSocket);
        Assert.Equal(0, io.InFlight);
    }

    [Fact]
    public void Submit_OnClosedHandle_ThrowsObjectDisposed()
    {
        using Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        var pair = new SocketPair();
        pair.Dispose();
        CompletionRequest request = io.CreateRequest(new Recorder());
        Assert.Throws<ObjectDisposedException>(() => request.Receive(pair.Left.SafeHandle, new byte[4]));
        Assert.False(request.IsInFlight);
        Assert.Equal(0, io.InFlight);
    }

    [Fact]
    public void Dispose_WithARequestInFlight_ReleasesIt()
    {
        Loop? loop = CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            loop?.Dispose();
            return;
        }

        using var pair = new SocketPair();
        CompletionRequest request = io.CreateRequest(new Recorder());
        request.Receive(pair.Left.SafeHandle, new byte[8]);
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
        Assert.False(request.IsInFlight);
        Assert.Null(loop.CompletionIo);
    }

    internal static Loop? CreateLoop() =>
        IoUringProbe.Current.IsAvailable ? new Loop(new LoopOptions { Poller = PollerKind.IoUring }) : null;

    internal static void RunUntil(Loop loop, Func<bool> condition)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < end, "liveness bound");
            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }
    }

    internal sealed class Recorder : ICompletionHandler
    {
        public List<int> Results { get; } = [];

        public void OnCompleted(CompletionRequest request, int result) => Results.Add(result);
    }
}
