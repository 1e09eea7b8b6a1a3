using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>Datagram corner cases: empty and oversized datagrams, a receive ended by dispose, kill or a deadline, and broadcast.</summary>
public sealed class DatagramEdgeCaseTests
{
    [Fact]
    public void EnableBroadcast_OffByDefault_RefusesABroadcastSend_OnLetsItGo()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            // The loopback network's broadcast address: nothing leaves the machine.
            var broadcast = new IPEndPoint(IPAddress.Parse("127.255.255.255"), 9);
            DatagramSocket socket = loop.BindDatagram(LoopNet.AnyPort);
            Assert.False(socket.EnableBroadcast);
            SocketException refused = await Assert.ThrowsAsync<SocketException>(async () => await socket.SendToAsync(new byte[1], broadcast));
            Assert.Equal(SocketError.AccessDenied, refused.SocketErrorCode);

            socket.EnableBroadcast = true;
            Assert.True(socket.EnableBroadcast);
            Assert.Equal(1, await socket.SendToAsync(new byte[1], broadcast));
            socket.EnableBroadcast = false;
            Assert.False(socket.EnableBroadcast);

            socket.Dispose();
            Assert.Throws<ObjectDisposedException>(() => socket.EnableBroadcast);
            Assert.Throws<ObjectDisposedException>(() => socket.EnableBroadcast = true);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReceiveFromAsync_EmptyAndOversizedDatagrams_ReportTheirLengthOrTheBufferLength()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket receiver = loop.BindDatagram(LoopNet.AnyPort);
            using DatagramSocket sender = loop.BindDatagram(LoopNet.AnyPort);
            ValueTask<DatagramReceiveResult> waiting = receiver.ReceiveFromAsync(new byte[10]);
            Assert.False(waiting.IsCompleted);
            Assert.Equal(0, await sender.SendToAsync(ReadOnlyMemory<byte>.Empty, receiver.LocalEndPoint));
            DatagramReceiveResult empty = await waiting;
            Assert.Equal(0, empty.ReceivedBytes);
            Assert.Equal(sender.LocalEndPoint, empty.RemoteEndPoint);

            // As documented: the rest of a larger datagram is discarded, the next one is whole.
            await sender.SendToAsync(new byte[100], receiver.LocalEndPoint);
            await sender.SendToAsync(new byte[3], receiver.LocalEndPoint);
            Assert.Equal(10, (await receiver.ReceiveFromAsync(new byte[10])).ReceivedBytes);
            Assert.Equal(3, (await receiver.ReceiveFromAsync(new byte[10])).ReceivedBytes);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReceiveFromAsync_EndedByDisposeKillOrDeadline_EachClearly_SocketStaysUsable()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            DatagramSocket disposed = loop.BindDatagram(LoopNet.AnyPort);
            ValueTask<DatagramReceiveResult> pending = disposed.ReceiveFromAsync(new byte[10]);
            disposed.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
            Assert.Throws<ObjectDisposedException>(() => disposed.ReceiveFromAsync(new byte[10]));

            using DatagramSocket socket = loop.BindDatagram(LoopNet.AnyPort);
            Greenlet killed = loop.Spawn(async () => await socket.ReceiveFromAsync(new byte[10]));
            await loop.Yield();
            await killed.KillAsync();
            Assert.IsAssignableFrom<OperationCanceledException>(killed.Exception);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using CancelScope scope = loop.FailAfter(TimeSpan.FromMilliseconds(1));
                await socket.ReceiveFromAsync(new byte[10]);
            });

            await socket.SendToAsync(new byte[3], socket.LocalEndPoint);
            Assert.Equal(3, (await socket.ReceiveFromAsync(new byte[10])).ReceivedBytes);
        });
        LoopNet.AssertNoRegistrations(loop);
    }
}
