using System.Net;
using System.Net.Sockets;
using EventLoop.Net.Internal;

namespace EventLoop.Tests.Net;

public sealed class NetThrowHelperTests
{
    [Fact]
    public void CreateSocketException_WithEndPoint_NamesOperationEndPointAndReason()
    {
        SocketException exception = NetThrowHelper.CreateSocketException(
            SocketError.ConnectionRefused, "connect to", IPEndPoint.Parse("127.0.0.1:9"));

        Assert.Equal(typeof(SocketException), exception.GetType());
        Assert.Equal(SocketError.ConnectionRefused, exception.SocketErrorCode);
        Assert.Equal(111, exception.NativeErrorCode);
        Assert.Equal("connect to 127.0.0.1:9 failed: Connection refused", exception.Message);
    }

    [Fact]
    public void CreateSocketException_UnixEndPoint_MarksPath()
    {
        SocketException exception = NetThrowHelper.CreateSocketException(
            SocketError.AddressAlreadyInUse, "bind", new UnixDomainSocketEndPoint("/tmp/s.sock"));

        Assert.StartsWith("bind unix:/tmp/s.sock failed: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowSocketException_WithoutEndPoint_ThrowsPlainSocketException()
    {
        SocketException exception = Assert.Throws<SocketException>(
            () => NetThrowHelper.ThrowSocketException(SocketError.TooManyOpenSockets, "accept"));

        Assert.Equal(SocketError.TooManyOpenSockets, exception.SocketErrorCode);
        Assert.StartsWith("accept failed: ", exception.Message, StringComparison.Ordinal);
    }
}
