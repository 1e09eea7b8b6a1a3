using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EventLoop.Tests.Samples;

/// <summary>Loopback ports for the command-line tests.</summary>
internal static class LoopbackPort
{
    /// <summary>A port the kernel just handed out and nobody listens on, so a connection to it is refused.</summary>
    public static string Unused()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
    }
}
