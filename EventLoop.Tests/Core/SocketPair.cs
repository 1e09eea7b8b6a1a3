using System.Net;
using System.Net.Sockets;

namespace EventLoop.Tests.Core;

/// <summary>Two connected loopback TCP sockets, non-blocking.</summary>
internal sealed class SocketPair : IDisposable
{
    public SocketPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Left = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Left.Connect(listener.LocalEndPoint!);
        Right = listener.Accept();
        Left.Blocking = false;
        Right.Blocking = false;
    }

    public Socket Left { get; }

    public Socket Right { get; }

    public void Dispose()
    {
        Left.Dispose();
        Right.Dispose();
    }
}
