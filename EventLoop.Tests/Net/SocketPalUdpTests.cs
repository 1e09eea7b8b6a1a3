using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

[Collection(DescriptorCountingCollection.Name)]
public sealed class SocketPalUdpTests : NativeSocketTest
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void SendToReceiveFrom_EndPoints_RoundTripAndReportSender(string address)
    {
        (int sender, EndPoint senderEndPoint) = BindUdp(address);
        (int receiver, EndPoint receiverEndPoint) = BindUdp(address);

        Assert.Equal(SocketError.Success, SocketPal.SendTo(sender, "datagram"u8, receiverEndPoint, out int sent));
        Assert.Equal(8, sent);

        Assert.True(TestPoll.WaitReadable(receiver));
        byte[] buffer = new byte[64];
        Assert.Equal(SocketError.Success, SocketPal.ReceiveFrom(receiver, buffer, out int received, out EndPoint? from));
        Assert.Equal("datagram"u8.ToArray(), buffer[..received]);
        Assert.Equal(senderEndPoint, from);

        Close(receiver);
        Close(sender);
        AssertNoFdLeak();
    }

    [Fact]
    public void SendToReceiveFrom_NativeAddresses_SenderMatchesWithoutDecoding()
    {
        (int sender, EndPoint senderEndPoint) = BindUdp("127.0.0.1");
        (int receiver, EndPoint receiverEndPoint) = BindUdp("127.0.0.1");

        // Encode the destination once, as a datagram hot path would, and reuse it.
        byte[] destination = new byte[SocketAddressPal.MaxLength];
        Assert.Equal(SocketError.Success, SocketAddressPal.Write(receiverEndPoint, destination, out int destinationLength));
        byte[] source = new byte[SocketAddressPal.MaxLength];
        byte[] buffer = new byte[16];

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(SocketError.Success, SocketPal.SendTo(sender, [(byte)i], destination.AsSpan(0, destinationLength), out int sent));
            Assert.Equal(1, sent);

            Assert.True(TestPoll.WaitReadable(receiver));
            Assert.Equal(SocketError.Success, SocketPal.ReceiveFrom(receiver, buffer, source, out int received, out int sourceLength, out bool truncated));
            Assert.Equal(1, received);
            Assert.False(truncated);
            Assert.Equal(i, buffer[0]);
            Assert.Equal(SocketAddressPal.IPv4Length, sourceLength);
            Assert.True(SocketAddressPal.Matches(source.AsSpan(0, sourceLength), senderEndPoint));
            Assert.False(SocketAddressPal.Matches(source.AsSpan(0, sourceLength), receiverEndPoint));
        }

        Close(receiver);
        Close(sender);
        AssertNoFdLeak();
    }

    [Fact]
    public void ReceiveFrom_NoDatagram_ReturnsWouldBlock()
    {
        (int receiver, _) = BindUdp("127.0.0.1");

        byte[] buffer = new byte[16];
        Assert.Equal(SocketError.WouldBlock, SocketPal.ReceiveFrom(receiver, buffer, out int received, out EndPoint? from));
        Assert.Equal(0, received);
        Assert.Null(from);

        Close(receiver);
        AssertNoFdLeak();
    }

    [Fact]
    public void ReceiveFrom_BufferSmallerThanDatagram_KeepsPrefixAndDropsRest()
    {
        (int sender, _) = BindUdp("127.0.0.1");
        (int receiver, EndPoint receiverEndPoint) = BindUdp("127.0.0.1");

        Assert.Equal(SocketError.Success, SocketPal.SendTo(sender, "0123456789"u8, receiverEndPoint, out _));
        Assert.Equal(SocketError.Success, SocketPal.SendTo(sender, "next"u8, receiverEndPoint, out _));

        Assert.True(TestPoll.WaitReadable(receiver));
        byte[] buffer = new byte[4];
        Assert.Equal(SocketError.Success, SocketPal.ReceiveFrom(receiver, buffer, out int received, out _));
        Assert.Equal("0123"u8.ToArray(), buffer[..received]);
        Assert.True(TestPoll.WaitReadable(receiver));
        Assert.Equal(SocketError.Success, SocketPal.ReceiveFrom(receiver, buffer, out received, out _));
        Assert.Equal("next"u8.ToArray(), buffer[..received]);

        Close(receiver);
        Close(sender);
        AssertNoFdLeak();
    }

    private (int Fd, EndPoint EndPoint) BindUdp(string address)
    {
        IPAddress ip = IPAddress.Parse(address);
        int fd = NewSocket(ip.AddressFamily, SocketType.Dgram);
        Assert.Equal(SocketError.Success, SocketPal.Bind(fd, new IPEndPoint(ip, 0)));
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(fd, out EndPoint? local));
        return (fd, local!);
    }
}
