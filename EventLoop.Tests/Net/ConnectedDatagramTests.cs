using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// Datagram sockets with a peer (<see cref="LoopNetExtensions.ConnectDatagram"/>,
/// <see cref="DatagramSocket.Connect"/>, <see cref="DatagramSocket.SendAsync"/>) and truncated
/// datagrams, through the public API on loopback.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class ConnectedDatagramTests
{
    [Fact]
    public void ConnectDatagram_SendsToItsPeer_AndReceivesOnlyThePeersDatagrams()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket server = loop.BindDatagram(LoopNet.AnyPort);
            using DatagramSocket client = loop.ConnectDatagram(server.LocalEndPoint);
            using DatagramSocket stranger = loop.BindDatagram(LoopNet.AnyPort);
            Assert.Equal(server.LocalEndPoint, client.RemoteEndPoint);
            var local = Assert.IsType<IPEndPoint>(client.LocalEndPoint);
            Assert.Equal(IPAddress.Loopback, local.Address);
            Assert.NotEqual(0, local.Port);
            Assert.Null(server.RemoteEndPoint);

            Assert.Equal(4, await client.SendAsync("ping"u8.ToArray()));
            var buffer = new byte[16];
            DatagramReceiveResult request = await server.ReceiveFromAsync(buffer);
            Assert.Equal("ping", Encoding.ASCII.GetString(buffer, 0, request.ReceivedBytes));
            Assert.Equal(client.LocalEndPoint, request.RemoteEndPoint);

            // The stranger's datagram comes first, but the kernel delivers only the peer's.
            await stranger.SendToAsync("intruder"u8.ToArray(), client.LocalEndPoint);
            await server.SendToAsync("pong"u8.ToArray(), request.RemoteEndPoint);
            DatagramReceiveResult reply = await client.ReceiveFromAsync(buffer);
            Assert.Equal("pong", Encoding.ASCII.GetString(buffer, 0, reply.ReceivedBytes));
            Assert.Equal(server.LocalEndPoint, reply.RemoteEndPoint);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReceiveFromAsync_AfterADatagramToAPortNobodyListensOn_ThrowsConnectionRefused_AndTheSocketStaysUsable()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            EndPoint nobody;
            using (DatagramSocket closed = loop.BindDatagram(LoopNet.AnyPort))
            {
                nobody = closed.LocalEndPoint;
            }

            using DatagramSocket client = loop.ConnectDatagram(nobody);
            var buffer = new byte[16];
            ValueTask<DatagramReceiveResult> waiting = client.ReceiveFromAsync(buffer);
            await client.SendAsync("anyone?"u8.ToArray());
            SocketException refused = await Assert.ThrowsAsync<SocketException>(async () => await waiting);
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

            // The error was reported once; the socket goes on, here with a peer that answers.
            using DatagramSocket server = loop.BindDatagram(LoopNet.AnyPort);
            client.Connect(server.LocalEndPoint);
            Assert.Equal(server.LocalEndPoint, client.RemoteEndPoint);
            await client.SendAsync("hello"u8.ToArray());
            DatagramReceiveResult request = await server.ReceiveFromAsync(buffer);
            Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, request.ReceivedBytes));
            await server.SendToAsync("back"u8.ToArray(), request.RemoteEndPoint);
            Assert.Equal(4, (await client.ReceiveFromAsync(buffer)).ReceivedBytes);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void SendAsync_WithoutAPeer_AndConnect_ToAnUnsupportedEndPoint_FailClearly_ChangingNothing()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket socket = loop.BindDatagram(LoopNet.AnyPort);
            InvalidOperationException noPeer = Assert.Throws<InvalidOperationException>(() => socket.SendAsync(new byte[1]));
            Assert.Contains("Connect", noPeer.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => socket.Connect(new DnsEndPoint("localhost", 9)));
            Assert.Throws<ArgumentException>(() => loop.ConnectDatagram(new DnsEndPoint("localhost", 9)));
            Assert.Throws<ArgumentNullException>(() => socket.Connect(null!));
            Assert.Null(socket.RemoteEndPoint);

            // An IPv6 peer for an IPv4 socket: the kernel's refusal, as a SocketException.
            Assert.Throws<SocketException>(() => socket.Connect(new IPEndPoint(IPAddress.IPv6Loopback, 9)));
            Assert.Null(socket.RemoteEndPoint);

            // Still a plain bound socket.
            await socket.SendToAsync(new byte[2], socket.LocalEndPoint);
            Assert.Equal(2, (await socket.ReceiveFromAsync(new byte[4])).ReceivedBytes);

            socket.Dispose();
            Assert.Throws<ObjectDisposedException>(() => socket.Connect(LoopNet.AnyPort));
            Assert.Throws<ObjectDisposedException>(() => socket.SendAsync(new byte[1]));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ConnectDatagram_OffTheLoopThreadWhileItRuns_Throws_AndARefusedConnect_LeaksNoDescriptor()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        SocketException missing = Assert.Throws<SocketException>(() => loop.ConnectDatagram(new UnixDomainSocketEndPoint(path)));
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);
        before.AssertOpenedSince(0);

        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket server = loop.BindDatagram(LoopNet.AnyPort);
            Exception? offLoop = await Task.Run(() => Record.Exception(() => loop.ConnectDatagram(server.LocalEndPoint)));
            Assert.IsType<InvalidOperationException>(offLoop);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ConnectDatagram_ToAUnixSocket_SendsFromAnUnnamedSocket()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket server = loop.BindDatagram(new UnixDomainSocketEndPoint(path));
            using DatagramSocket client = loop.ConnectDatagram(new UnixDomainSocketEndPoint(path));
            Assert.Same(UnnamedEndPoint.Instance, client.LocalEndPoint);
            Assert.Equal(path, client.RemoteEndPoint!.ToString());

            await client.SendAsync("unix"u8.ToArray());
            var buffer = new byte[8];
            DatagramReceiveResult got = await server.ReceiveFromAsync(buffer);
            Assert.Equal("unix", Encoding.ASCII.GetString(buffer, 0, got.ReceivedBytes));
            Assert.Same(UnnamedEndPoint.Instance, got.RemoteEndPoint);
        });
        Assert.False(File.Exists(path));
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReceiveFromAsync_ReportsWhetherTheDatagramWasTruncated_WhetherItWasQueuedOrAwaited()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket receiver = loop.BindDatagram(LoopNet.AnyPort);
            using DatagramSocket sender = loop.ConnectDatagram(receiver.LocalEndPoint);
            var buffer = new byte[8];

            // Queued before the receive: taken at once.
            await sender.SendAsync(new byte[8]);
            await sender.SendAsync(new byte[9]);
            await sender.SendAsync(new byte[7]);
            Assert.Equal(new DatagramReceiveResult(8, sender.LocalEndPoint), await receiver.ReceiveFromAsync(buffer));
            Assert.Equal(new DatagramReceiveResult(8, sender.LocalEndPoint) { Truncated = true }, await receiver.ReceiveFromAsync(buffer));
            Assert.Equal(new DatagramReceiveResult(7, sender.LocalEndPoint), await receiver.ReceiveFromAsync(buffer));

            // Arriving while the receive waits.
            ValueTask<DatagramReceiveResult> waiting = receiver.ReceiveFromAsync(buffer);
            Assert.False(waiting.IsCompleted);
            await sender.SendAsync(new byte[1000]);
            DatagramReceiveResult large = await waiting;
            Assert.True(large.Truncated);
            Assert.Equal(8, large.ReceivedBytes);

            // An empty buffer takes a whole datagram off the queue: truncated unless it was empty.
            await sender.SendAsync(ReadOnlyMemory<byte>.Empty);
            await sender.SendAsync(new byte[1]);
            Assert.False((await receiver.ReceiveFromAsync(Memory<byte>.Empty)).Truncated);
            Assert.True((await receiver.ReceiveFromAsync(Memory<byte>.Empty)).Truncated);
        });
        LoopNet.AssertNoRegistrations(loop);
    }
}
