using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// Base for tests on real sockets: tracks every descriptor a test opens, closes leftovers if the test
/// fails early, and lets each test assert that the process has exactly as many descriptors as before.
/// Derived classes must be in <see cref="DescriptorCountingCollection"/>.
/// </summary>
public abstract class NativeSocketTest : IDisposable
{
    private readonly DescriptorSnapshot _fdsAtStart = DescriptorSnapshot.Take();
    private readonly List<int> _owned = [];

    protected int Own(int fd)
    {
        Assert.True(fd >= 0, $"invalid descriptor {fd}");
        _owned.Add(fd);
        return fd;
    }

    protected void Close(int fd)
    {
        Assert.True(_owned.Remove(fd), $"descriptor {fd} is not owned by this test");
        Assert.Equal(SocketError.Success, SocketPal.Close(fd));
    }

    protected void Disown(int fd) => Assert.True(_owned.Remove(fd));

    protected void AssertNoFdLeak()
    {
        Assert.Empty(_owned);
        _fdsAtStart.AssertOpenedSince(0);
    }

    protected int NewSocket(AddressFamily family, SocketType type)
    {
        Assert.Equal(SocketError.Success, SocketPal.CreateSocket(family, type, out int fd));
        return Own(fd);
    }

    protected (int Fd, EndPoint EndPoint) Listen(EndPoint endPoint)
    {
        AddressFamily family = endPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : endPoint.AddressFamily;
        int fd = NewSocket(family, SocketType.Stream);
        Assert.Equal(SocketError.Success, SocketPal.Bind(fd, endPoint));
        Assert.Equal(SocketError.Success, SocketPal.Listen(fd, 16));
        Assert.Equal(SocketError.Success, SocketPal.GetLocalEndPoint(fd, out EndPoint? local));
        return (fd, Assert.IsAssignableFrom<EndPoint>(local));
    }

    /// <summary>Connects a new client to <paramref name="listener"/>, waiting for the handshake, and accepts it.</summary>
    protected (int Client, int Server) ConnectAndAccept(int listener, EndPoint listenerEndPoint)
    {
        AddressFamily family = listenerEndPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : listenerEndPoint.AddressFamily;
        int client = NewSocket(family, SocketType.Stream);
        SocketError connect = SocketPal.Connect(client, listenerEndPoint);
        Assert.True(connect is SocketError.Success or SocketError.InProgress, connect.ToString());
        Assert.True(TestPoll.WaitWritable(client));
        Assert.Equal(SocketError.Success, SocketPal.GetSocketError(client, out SocketError outcome));
        Assert.Equal(SocketError.Success, outcome);

        Assert.True(TestPoll.WaitReadable(listener));
        Assert.Equal(SocketError.Success, SocketPal.Accept(listener, out int server));
        return (client, Own(server));
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (int fd in _owned)
            {
                SocketPal.Close(fd);
            }

            _owned.Clear();
        }
    }
}
