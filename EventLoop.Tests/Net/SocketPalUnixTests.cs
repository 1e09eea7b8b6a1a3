using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

[Collection(DescriptorCountingCollection.Name)]
public sealed class SocketPalUnixTests : NativeSocketTest
{
    private readonly string _directory = Directory.CreateTempSubdirectory("elnet-").FullName;

    [Fact]
    public void ListenConnectAccept_PathSocket_TransfersBytes()
    {
        string path = Path.Combine(_directory, "s.sock");
        (int listener, EndPoint local) = Listen(new UnixDomainSocketEndPoint(path));
        Assert.Equal(path, local.ToString());

        int client = NewSocket(AddressFamily.Unix, SocketType.Stream);

        // Unix stream connects complete synchronously while the backlog has room.
        Assert.Equal(SocketError.Success, SocketPal.Connect(client, new UnixDomainSocketEndPoint(path)));
        Assert.Equal(SocketError.Success, SocketPal.Accept(listener, out int server, out EndPoint? peer));
        Own(server);

        // The client never bound a name, so its address is unnamed.
        Assert.Null(peer);
        Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(client, out EndPoint? remote));
        Assert.Equal(path, remote!.ToString());

        SocketPalTcpTests.AssertTransfer(client, server, "over unix");
        SocketPalTcpTests.AssertTransfer(server, client, "and back");
        Assert.Equal(SocketError.Success, SocketPal.Shutdown(server, SocketShutdown.Send));
        Assert.True(TestPoll.WaitReadable(client));
        Assert.Equal(SocketError.Success, SocketPal.Receive(client, new byte[8], out int bytes));
        Assert.Equal(0, bytes);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Connect_MissingPath_ReturnsAddressNotAvailable()
    {
        int client = NewSocket(AddressFamily.Unix, SocketType.Stream);

        Assert.Equal(
            SocketError.AddressNotAvailable,
            SocketPal.Connect(client, new UnixDomainSocketEndPoint(Path.Combine(_directory, "missing.sock"))));

        Close(client);
        AssertNoFdLeak();
    }

    [Fact]
    public void Connect_PathWithoutListener_ReturnsConnectionRefused()
    {
        string path = Path.Combine(_directory, "bound.sock");
        int bound = NewSocket(AddressFamily.Unix, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.Bind(bound, new UnixDomainSocketEndPoint(path)));
        int client = NewSocket(AddressFamily.Unix, SocketType.Stream);

        Assert.Equal(SocketError.ConnectionRefused, SocketPal.Connect(client, new UnixDomainSocketEndPoint(path)));

        Close(client);
        Close(bound);
        AssertNoFdLeak();
    }

    [Fact]
    public void Bind_AbstractName_LocalEndPointRoundTrips()
    {
        string name = "\0elnet-" + Guid.NewGuid().ToString("N");
        (int listener, EndPoint local) = Listen(new UnixDomainSocketEndPoint(name));

        Assert.Equal(new UnixDomainSocketEndPoint(name).ToString(), local.ToString());
        Assert.StartsWith("@elnet-", local.ToString(), StringComparison.Ordinal);

        int client = NewSocket(AddressFamily.Unix, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.Connect(client, local));
        Assert.Equal(SocketError.Success, SocketPal.Accept(listener, out int server));
        Own(server);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Theory]
    [InlineData(SocketType.Stream)]
    [InlineData(SocketType.Dgram)]
    [InlineData(SocketType.Seqpacket)]
    public void CreateSocketPair_AnyType_TransfersBothWaysAndIsUnnamed(SocketType type)
    {
        Assert.Equal(SocketError.Success, SocketPal.CreateSocketPair(type, out int a, out int b));
        Own(a);
        Own(b);

        SocketPalTcpTests.AssertTransfer(a, b, "left");
        SocketPalTcpTests.AssertTransfer(b, a, "right");
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(a, out EndPoint? local));
        Assert.Null(local);

        Close(a);
        Close(b);
        AssertNoFdLeak();
    }

    [Fact]
    public void SetNoDelay_UnixSocket_ReportsErrorWithoutThrowing()
    {
        Assert.Equal(SocketError.Success, SocketPal.CreateSocketPair(SocketType.Stream, out int a, out int b));
        Own(a);
        Own(b);

        Assert.NotEqual(SocketError.Success, SocketPal.SetNoDelay(a, true));

        Close(a);
        Close(b);
        AssertNoFdLeak();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
