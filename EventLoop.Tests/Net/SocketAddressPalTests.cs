using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class SocketAddressPalTests
{
    [Fact]
    public void Write_IPv4_ProducesSockaddrIn()
    {
        byte[] buffer = new byte[SocketAddressPal.MaxLength];
        buffer.AsSpan().Fill(0xAA);

        Assert.Equal(SocketError.Success, SocketAddressPal.Write(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 8080), buffer, out int length));

        Assert.Equal(16, length);
        Assert.Equal(
            new byte[] { 2, 0, 0x1F, 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0 },
            buffer[..length]);
    }

    [Fact]
    public void Write_IPv6WithScope_ProducesSockaddrIn6()
    {
        byte[] buffer = new byte[SocketAddressPal.MaxLength];
        buffer.AsSpan().Fill(0xAA);

        Assert.Equal(SocketError.Success, SocketAddressPal.Write(IPEndPoint.Parse("[fe80::1%3]:443"), buffer, out int length));

        Assert.Equal(28, length);
        Assert.Equal(new byte[] { 10, 0, 0x01, 0xBB, 0, 0, 0, 0 }, buffer[..8]);
        Assert.Equal(IPAddress.Parse("fe80::1").GetAddressBytes(), buffer[8..24]);
        Assert.Equal(new byte[] { 3, 0, 0, 0 }, buffer[24..28]);
    }

    [Theory]
    [InlineData("127.0.0.1:0")]
    [InlineData("0.0.0.0:65535")]
    [InlineData("192.168.10.20:1")]
    [InlineData("[::1]:80")]
    [InlineData("[::]:0")]
    [InlineData("[fe80::1234:5678%2]:1234")]
    [InlineData("[2001:db8::7]:65535")]
    [InlineData("[::ffff:10.0.0.1]:9")]
    public void WriteThenRead_IPEndPoint_RoundTrips(string text)
    {
        var endPoint = IPEndPoint.Parse(text);

        EndPoint? back = RoundTrip(endPoint, out _);

        IPEndPoint ip = Assert.IsType<IPEndPoint>(back);
        Assert.Equal(endPoint, ip);
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Assert.Equal(endPoint.Address.ScopeId, ip.Address.ScopeId);
        }
    }

    [Theory]
    [InlineData("/tmp/x.sock")]
    [InlineData("relative.sock")]
    [InlineData("@looks-abstract-but-is-a-relative-path")]
    [InlineData("/tmp/ünïcödé.sock")]
    public void WriteThenRead_UnixPath_RoundTripsWithTerminator(string path)
    {
        EndPoint? back = RoundTrip(new UnixDomainSocketEndPoint(path), out byte[] native);

        Assert.Equal(path, back!.ToString());
        int pathBytes = Encoding.UTF8.GetByteCount(path);
        Assert.Equal(2 + pathBytes + 1, native.Length);
        Assert.Equal(new byte[] { 1, 0 }, native[..2]);
        Assert.Equal((byte)path[0], native[2]);
        Assert.Equal(0, native[^1]);
    }

    [Fact]
    public void WriteThenRead_UnixAbstractName_RoundTripsWithoutTerminator()
    {
        var endPoint = new UnixDomainSocketEndPoint("\0abstract-name");

        EndPoint? back = RoundTrip(endPoint, out byte[] native);

        Assert.Equal(2 + 1 + "abstract-name".Length, native.Length);
        Assert.Equal(0, native[2]);
        Assert.Equal((byte)'e', native[^1]);
        Assert.Equal("@abstract-name", back!.ToString());
        Assert.Equal(native, Encode(back));
    }

    [Fact]
    public void Write_UnsupportedEndPoint_ReturnsAddressFamilyNotSupported()
    {
        byte[] buffer = new byte[SocketAddressPal.MaxLength];

        Assert.Equal(SocketError.AddressFamilyNotSupported, SocketAddressPal.Write(new DnsEndPoint("example.com", 80), buffer, out int length));
        Assert.Equal(0, length);
    }

    [Fact]
    public void Write_BufferTooSmall_ReturnsInvalidArgument()
    {
        Assert.Equal(SocketError.InvalidArgument, SocketAddressPal.Write(IPEndPoint.Parse("[::1]:1"), new byte[27], out int length));
        Assert.Equal(0, length);
        Assert.Equal(SocketError.InvalidArgument, SocketAddressPal.Write(IPEndPoint.Parse("1.2.3.4:5"), new byte[15], out length));
        Assert.Equal(SocketError.InvalidArgument, SocketAddressPal.Write(new UnixDomainSocketEndPoint("/tmp/abc"), new byte[10], out length));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 2 })]
    [InlineData(new byte[] { 1, 0 })]                      // unnamed Unix socket
    [InlineData(new byte[] { 1, 0, 0 })]                   // unnamed, as some kernels report it
    [InlineData(new byte[] { 2, 0, 0, 80, 127 })]          // truncated sockaddr_in
    [InlineData(new byte[] { 10, 0, 0, 80, 0, 0, 0, 0 })]  // truncated sockaddr_in6
    [InlineData(new byte[] { 17, 0, 1, 2, 3, 4 })]         // AF_PACKET
    public void Read_UnnamedTruncatedOrUnknown_ReturnsNull(byte[] native) =>
        Assert.Null(SocketAddressPal.Read(native));

    [Fact]
    public void Matches_SameAndDifferentEndPoints()
    {
        byte[] native = Encode(IPEndPoint.Parse("127.0.0.1:5000"));

        Assert.True(SocketAddressPal.Matches(native, IPEndPoint.Parse("127.0.0.1:5000")));
        Assert.False(SocketAddressPal.Matches(native, IPEndPoint.Parse("127.0.0.1:5001")));
        Assert.False(SocketAddressPal.Matches(native, IPEndPoint.Parse("[::ffff:127.0.0.1]:5000")));
        Assert.False(SocketAddressPal.Matches(native, null));
    }

    [Fact]
    public void GetFamily_ReadsHostOrderFamily()
    {
        Assert.Equal(2, SocketAddressPal.GetFamily(Encode(IPEndPoint.Parse("1.2.3.4:5"))));
        Assert.Equal(10, SocketAddressPal.GetFamily(Encode(IPEndPoint.Parse("[::1]:5"))));
        Assert.Equal(1, SocketAddressPal.GetFamily(Encode(new UnixDomainSocketEndPoint("/x"))));
        Assert.Equal(-1, SocketAddressPal.GetFamily([1]));
    }

    private static byte[] Encode(EndPoint endPoint)
    {
        byte[] buffer = new byte[SocketAddressPal.MaxLength];
        Assert.Equal(SocketError.Success, SocketAddressPal.Write(endPoint, buffer, out int length));
        return buffer[..length];
    }

    private static EndPoint? RoundTrip(EndPoint endPoint, out byte[] native)
    {
        native = Encode(endPoint);
        return SocketAddressPal.Read(native);
    }
}
