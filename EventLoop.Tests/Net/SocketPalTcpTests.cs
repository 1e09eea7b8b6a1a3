using System.Net;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;
using EventLoop.Net.Interop;

namespace EventLoop.Tests.Net;

[Collection(DescriptorCountingCollection.Name)]
public sealed class SocketPalTcpTests : NativeSocketTest
{
    public static TheoryData<string> LoopbackAddresses => new() { "127.0.0.1", "::1" };

    [Fact]
    public void CreateSocket_Tcp_IsNonBlockingAndCloseOnExec()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        // fdinfo "flags:" is the octal open-file flags: O_NONBLOCK 04000, O_CLOEXEC 02000000.
        string flagsLine = File.ReadLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal));
        long flags = Convert.ToInt64(flagsLine["flags:".Length..].Trim(), 8);
        Assert.NotEqual(0, flags & Convert.ToInt64("4000", 8));
        Assert.NotEqual(0, flags & Convert.ToInt64("2000000", 8));

        Close(fd);
        AssertNoFdLeak();
    }

    [Fact]
    public void CreateSocket_UnsupportedFamilyOrType_ReturnsErrorAndMinusOne()
    {
        Assert.Equal(SocketError.AddressFamilyNotSupported, SocketPal.CreateSocket(AddressFamily.AppleTalk, SocketType.Stream, out int fd1));
        Assert.Equal(-1, fd1);
        Assert.Equal(SocketError.SocketNotSupported, SocketPal.CreateSocket(AddressFamily.InterNetwork, SocketType.Rdm, out int fd2));
        Assert.Equal(-1, fd2);
        AssertNoFdLeak();
    }

    [Theory]
    [MemberData(nameof(LoopbackAddresses))]
    public void Listen_PortZero_LocalEndPointHasAssignedPort(string address)
    {
        (int listener, EndPoint local) = Listen(new IPEndPoint(IPAddress.Parse(address), 0));

        IPEndPoint ip = Assert.IsType<IPEndPoint>(local);
        Assert.Equal(IPAddress.Parse(address), ip.Address);
        Assert.InRange(ip.Port, 1, 65535);

        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Accept_NothingPending_ReturnsWouldBlock()
    {
        (int listener, _) = Listen(new IPEndPoint(IPAddress.Loopback, 0));

        Assert.Equal(SocketError.WouldBlock, SocketPal.Accept(listener, out int accepted));
        Assert.Equal(-1, accepted);
        Assert.Equal(SocketError.WouldBlock, SocketPal.Accept(listener, out accepted, out EndPoint? peer));
        Assert.Equal(-1, accepted);
        Assert.Null(peer);

        Close(listener);
        AssertNoFdLeak();
    }

    [Theory]
    [MemberData(nameof(LoopbackAddresses))]
    public void Connect_NonBlocking_CompletesAndEndPointsAgree(string address)
    {
        (int listener, EndPoint listenerEndPoint) = Listen(new IPEndPoint(IPAddress.Parse(address), 0));
        int client = NewSocket(listenerEndPoint.AddressFamily, SocketType.Stream);

        SocketError connect = SocketPal.Connect(client, listenerEndPoint);
        Assert.True(connect is SocketError.InProgress or SocketError.Success, connect.ToString());
        Assert.True(TestPoll.WaitWritable(client));
        Assert.Equal(SocketError.Success, SocketPal.GetSocketError(client, out SocketError outcome));
        Assert.Equal(SocketError.Success, outcome);

        Assert.True(TestPoll.WaitReadable(listener));
        Assert.Equal(SocketError.Success, SocketPal.Accept(listener, out int server, out EndPoint? peer));
        Own(server);

        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(client, out EndPoint? clientLocal));
        Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(client, out EndPoint? clientRemote));
        Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(server, out EndPoint? serverRemote));
        Assert.Equal(clientLocal, peer);
        Assert.Equal(clientLocal, serverRemote);
        Assert.Equal(listenerEndPoint, clientRemote);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void SendReceive_Loopback_TransfersBytesBothWays()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);

        AssertTransfer(client, server, "ping");
        AssertTransfer(server, client, "pong");

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Receive_NoDataQueued_ReturnsWouldBlock()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);

        Span<byte> buffer = stackalloc byte[16];
        Assert.Equal(SocketError.WouldBlock, SocketPal.Receive(server, buffer, out int bytes));
        Assert.Equal(0, bytes);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Receive_PeerShutDownSending_ReturnsZeroBytes()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);

        AssertTransfer(client, server, "last words");
        Assert.Equal(SocketError.Success, SocketPal.Shutdown(client, SocketShutdown.Send));

        Assert.True(TestPoll.WaitReadable(server));
        Span<byte> buffer = stackalloc byte[16];
        Assert.Equal(SocketError.Success, SocketPal.Receive(server, buffer, out int bytes));
        Assert.Equal(0, bytes);

        // The other direction still works after a half close.
        AssertTransfer(server, client, "reply");

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Send_PeerClosedWithUnreadData_ReportsResetThenShutdownWithoutSignal()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);

        // Closing with unread data makes the kernel answer with RST instead of FIN.
        Assert.Equal(SocketError.Success, SocketPal.Send(client, "unread"u8, out _));
        Assert.True(TestPoll.WaitReadable(server));
        Close(server);
        Assert.True(TestPoll.WaitReadable(client));

        SocketError first = SocketPal.Send(client, "after reset"u8, out int sent);
        Assert.True(first is SocketError.ConnectionReset or SocketError.Shutdown, first.ToString());
        Assert.Equal(0, sent);

        // The reset is reported once; afterwards every send fails with EPIPE, which MSG_NOSIGNAL turns
        // into an error code instead of SIGPIPE.
        Assert.Equal(SocketError.Shutdown, SocketPal.Send(client, "again"u8, out _));

        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Connect_PortWithoutListener_ReportsConnectionRefused()
    {
        // A bound but non-listening socket reserves the port so nothing else can be listening on it.
        int reserved = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.Bind(reserved, new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(reserved, out EndPoint? closedPort));

        int client = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);
        SocketError connect = SocketPal.Connect(client, closedPort!);
        if (connect == SocketError.InProgress)
        {
            Assert.True(TestPoll.WaitWritable(client));
            Assert.Equal(SocketError.Success, SocketPal.GetSocketError(client, out connect));
        }

        Assert.Equal(SocketError.ConnectionRefused, connect);

        // SO_ERROR is cleared by reading it.
        Assert.Equal(SocketError.Success, SocketPal.GetSocketError(client, out SocketError cleared));
        Assert.Equal(SocketError.Success, cleared);

        Close(client);
        Close(reserved);
        AssertNoFdLeak();
    }

    [Fact]
    public void Bind_PortInUse_ReturnsAddressAlreadyInUse()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        int second = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        Assert.Equal(SocketError.AddressAlreadyInUse, SocketPal.Bind(second, endPoint));

        Close(second);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Bind_UnresolvedDnsEndPoint_ReturnsErrorWithoutThrowing()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        Assert.Equal(SocketError.AddressFamilyNotSupported, SocketPal.Bind(fd, new DnsEndPoint("localhost", 80)));
        Assert.Equal(SocketError.AddressFamilyNotSupported, SocketPal.Connect(fd, new DnsEndPoint("localhost", 80)));

        Close(fd);
        AssertNoFdLeak();
    }

    [Fact]
    public void GetRemoteEndPointAndShutdown_Unconnected_ReturnNotConnected()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        Assert.Equal(SocketError.NotConnected, SocketPal.GetRemoteEndPoint(fd, out EndPoint? remote));
        Assert.Null(remote);
        Assert.Equal(SocketError.NotConnected, SocketPal.Shutdown(fd, SocketShutdown.Send));

        Close(fd);
        AssertNoFdLeak();
    }

    [Fact]
    public void SetOptions_TcpSocket_AreReadBack()
    {
        int fd = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);

        Assert.Equal(SocketError.Success, SocketPal.SetNoDelay(fd, true));
        Assert.Equal(SocketError.Success, SocketPal.SetReuseAddress(fd, true));
        Assert.Equal(SocketError.Success, SocketPal.SetReusePort(fd, true));
        Assert.Equal(SocketError.Success, SocketPal.SetReceiveBufferSize(fd, 64 * 1024));
        Assert.Equal(SocketError.Success, SocketPal.SetSendBufferSize(fd, 64 * 1024));

        Assert.Equal(1, ReadOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY));
        Assert.Equal(1, ReadOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR));
        Assert.Equal(1, ReadOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT));
        Assert.True(ReadOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF) >= 64 * 1024);

        Assert.Equal(SocketError.Success, SocketPal.SetNoDelay(fd, false));
        Assert.Equal(0, ReadOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY));

        // An IPv6-level option on an IPv4 socket is a reported error, not an exception.
        Assert.NotEqual(SocketError.Success, SocketPal.SetIPv6Only(fd, true));

        Close(fd);
        AssertNoFdLeak();
    }

    [Fact]
    public void SetReusePort_TwoListeners_ShareOnePort()
    {
        int first = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.SetReusePort(first, true));
        Assert.Equal(SocketError.Success, SocketPal.Bind(first, new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.Equal(SocketError.Success, SocketPal.Listen(first, 4));
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(first, out EndPoint? endPoint));

        int second = NewSocket(AddressFamily.InterNetwork, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.SetReusePort(second, true));
        Assert.Equal(SocketError.Success, SocketPal.Bind(second, endPoint!));

        Close(second);
        Close(first);
        AssertNoFdLeak();
    }

    [Fact]
    public void SetIPv6Only_Disabled_AcceptsIPv4PeerAsMappedAddress()
    {
        int listener = NewSocket(AddressFamily.InterNetworkV6, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.SetIPv6Only(listener, false));
        Assert.Equal(0, ReadOption(listener, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY));
        Assert.Equal(SocketError.Success, SocketPal.Bind(listener, new IPEndPoint(IPAddress.IPv6Any, 0)));
        Assert.Equal(SocketError.Success, SocketPal.Listen(listener, 4));
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(listener, out EndPoint? local));
        int port = ((IPEndPoint)local!).Port;

        (int client, int server) = ConnectAndAccept(listener, new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal(SocketError.Success, SocketPal.GetRemoteEndPoint(server, out EndPoint? peer));
        IPEndPoint mapped = Assert.IsType<IPEndPoint>(peer);
        Assert.True(mapped.Address.IsIPv4MappedToIPv6);
        Assert.Equal(IPAddress.Loopback, mapped.Address.MapToIPv4());

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void Send_LargeBuffer_AcceptsPartiallyThenWouldBlock()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);

        // Nobody reads, so the socket buffers fill up and a non-blocking send must stop short.
        byte[] chunk = new byte[1 << 20];
        SocketError result;
        long total = 0;
        int rounds = 0;
        do
        {
            result = SocketPal.Send(client, chunk, out int sent);
            total += sent;
            Assert.True(++rounds < 1000, "send never filled the socket buffers");
        }
        while (result == SocketError.Success);

        Assert.Equal(SocketError.WouldBlock, result);
        Assert.True(total > 0);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    [Fact]
    public void SendReceiveAccept_Warm_AllocateNothing()
    {
        (int listener, EndPoint endPoint) = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        (int client, int server) = ConnectAndAccept(listener, endPoint);
        byte[] payload = new byte[64];
        byte[] buffer = new byte[64];

        // Warm up the interop stubs first; then a send, a receive and a WouldBlock accept must not allocate.
        Assert.Equal(SocketError.Success, SocketPal.Send(client, payload, out _));
        Assert.True(TestPoll.WaitReadable(server));
        Assert.Equal(SocketError.Success, SocketPal.Receive(server, buffer, out _));
        Assert.Equal(SocketError.WouldBlock, SocketPal.Accept(listener, out _));
        Assert.True(TestPoll.WaitWritable(client));

        SocketError sent = default, received = default, accepted = default;
        bool readable = false;
        int bytes = 0;
        long allocated = AllocationWindows.Quietest(3, () =>
        {
            sent = SocketPal.Send(client, payload, out _);
            readable = TestPoll.WaitReadable(server);
            received = SocketPal.Receive(server, buffer, out bytes);
            accepted = SocketPal.Accept(listener, out _);
        });

        Assert.Equal(SocketError.Success, sent);
        Assert.True(readable);
        Assert.Equal(SocketError.Success, received);
        Assert.Equal(payload.Length, bytes);
        Assert.Equal(SocketError.WouldBlock, accepted);
        Assert.Equal(0, allocated);

        Close(server);
        Close(client);
        Close(listener);
        AssertNoFdLeak();
    }

    private static int ReadOption(int fd, int level, int name)
    {
        Assert.Equal(SocketError.Success, SocketPal.GetIntOption(fd, level, name, out int value));
        return value;
    }

    internal static void AssertTransfer(int from, int to, string text)
    {
        byte[] payload = Encoding.UTF8.GetBytes(text);
        Assert.Equal(SocketError.Success, SocketPal.Send(from, payload, out int sent));
        Assert.Equal(payload.Length, sent);

        byte[] received = new byte[payload.Length];
        int filled = 0;
        while (filled < received.Length)
        {
            Assert.True(TestPoll.WaitReadable(to));
            Assert.Equal(SocketError.Success, SocketPal.Receive(to, received.AsSpan(filled), out int bytes));
            Assert.NotEqual(0, bytes);
            filled += bytes;
        }

        Assert.Equal(text, Encoding.UTF8.GetString(received));
    }
}
