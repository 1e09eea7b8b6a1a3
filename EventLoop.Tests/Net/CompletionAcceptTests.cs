using System.Net;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Net.Interop;

namespace EventLoop.Tests.Net;

/// <summary>
/// <see cref="CompletionRequest.Accept"/> driven directly on a loop of the io_uring back end:
/// the descriptors it reports, multishot, and a cancellation that loses no connection. Each test
/// returns at once where io_uring or the opcodes are missing.
/// </summary>
public sealed class CompletionAcceptTests
{
    [Fact]
    public void Accept_ReportsTheConnectionAsANonBlockingCloseOnExecDescriptor()
    {
        using Loop? loop = CompletionIoTests.CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using Socket listener = Listen();
        var handler = new CompletionIoTests.Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        request.Accept(listener.SafeHandle);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Empty(handler.Results);

        using Socket client = Connect(listener);
        CompletionIoTests.RunUntil(loop, () => handler.Results.Count == 1);
        int fd = handler.Results[0];
        try
        {
            Assert.True(fd >= 0, $"accept failed: {fd}");
            Assert.False(request.IsInFlight);
            Assert.Equal(0, io.InFlight);
            Assert.NotEqual(0, Libc.fcntl(fd, Libc.F_GETFL, 0) & Libc.O_NONBLOCK);
            Assert.NotEqual(0, Libc.fcntl(fd, Libc.F_GETFD, 0) & Libc.FD_CLOEXEC);
            Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(fd, out EndPoint? remote));
            Assert.Equal(client.LocalEndPoint, remote);
        }
        finally
        {
            SocketPal.Close(fd);
        }
    }

    [Fact]
    public void Accept_Multishot_StaysInFlight_AndReportsEveryConnectionInOrder()
    {
        using Loop? loop = CompletionIoTests.CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using Socket listener = Listen();
        CompletionRequest request = ArmMultishot(loop, io, listener, out CompletionIoTests.Recorder handler);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(Connect(listener));
                CompletionIoTests.RunUntil(loop, () => handler.Results.Count == clients.Count);
                Assert.True(request.IsInFlight);
                Assert.Equal(1, io.InFlight);
            }

            for (int i = 0; i < clients.Count; i++)
            {
                Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(handler.Results[i], out EndPoint? remote));
                Assert.Equal(clients[i].LocalEndPoint, remote);
            }

            Assert.True(request.TryCancel(out int outcome));
            Assert.Equal(-125, outcome); // ECANCELED
            Assert.False(request.IsInFlight);
            Assert.Equal(0, io.InFlight);
        }
        finally
        {
            handler.Results.ForEach(fd => SocketPal.Close(fd));
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void TryCancel_Multishot_WithConnectionsNotYetReaped_LosesNone()
    {
        using Loop? loop = CompletionIoTests.CreateLoop();
        if (loop?.CompletionIo is not { } io)
        {
            return;
        }

        using Socket listener = Listen();
        CompletionRequest request = ArmMultishot(loop, io, listener, out CompletionIoTests.Recorder handler);

        var clients = new List<Socket>();
        var drained = new List<Socket>();
        try
        {
            // The loop does not run: whatever the kernel accepted for the request crosses the
            // cancellation and is reported from inside TryCancel; the rest stays in the listen queue.
            for (int i = 0; i < 3; i++)
            {
                clients.Add(Connect(listener));
            }

            Assert.True(request.TryCancel(out int outcome));
            if (outcome >= 0)
            {
                handler.Results.Add(outcome);
            }

            Assert.All(handler.Results, fd => Assert.True(fd >= 0, $"accept failed: {fd}"));
            while (TryAccept(listener) is { } queued)
            {
                drained.Add(queued);
            }

            Assert.Equal(clients.Count, handler.Results.Count + drained.Count);
            Assert.False(request.IsInFlight);
        }
        finally
        {
            handler.Results.ForEach(fd => SocketPal.Close(fd));
            clients.ForEach(c => c.Dispose());
            drained.ForEach(c => c.Dispose());
        }
    }

    // A multishot accept on listener, submitted to the kernel.
    private static CompletionRequest ArmMultishot(Loop loop, CompletionIo io, Socket listener, out CompletionIoTests.Recorder handler)
    {
        handler = new CompletionIoTests.Recorder();
        CompletionRequest request = io.CreateRequest(handler);
        request.Accept(listener.SafeHandle, multishot: true);
        loop.RunOnce(TimeSpan.Zero);
        return request;
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        listener.Blocking = false;
        return listener;
    }

    // Loopback completes the handshake inside connect(2): the connection is queued on return.
    private static Socket Connect(Socket listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return client;
    }

    private static Socket? TryAccept(Socket listener)
    {
        try
        {
            return listener.Accept();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            return null;
        }
    }
}
