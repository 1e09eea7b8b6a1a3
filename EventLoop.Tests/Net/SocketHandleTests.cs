using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

[Collection(DescriptorCountingCollection.Name)]
public sealed class SocketHandleTests : NativeSocketTest
{
    [Fact]
    public void Dispose_OwningHandle_ClosesDescriptor()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);
        Disown(fd);

        var handle = new SocketHandle(fd);
        Assert.False(handle.IsInvalid);
        Assert.Equal(fd, handle.Fd);
        handle.Dispose();

        Assert.True(handle.IsClosed);
        AssertNoFdLeak();
    }

    [Fact]
    public void Dispose_NonOwningHandle_LeavesDescriptorOpen()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        new SocketHandle(fd, ownsHandle: false).Dispose();

        Assert.Equal(SocketError.Success, SocketPal.GetSocketError(fd, out _));
        Close(fd);
        AssertNoFdLeak();
    }

    [Fact]
    public void IsInvalid_MinusOneOnly()
    {
        using var empty = new SocketHandle();
        using var minusOne = new SocketHandle(-1);
        using var zero = new SocketHandle(0, ownsHandle: false);

        Assert.True(empty.IsInvalid);
        Assert.True(minusOne.IsInvalid);
        Assert.False(zero.IsInvalid);
    }
}
