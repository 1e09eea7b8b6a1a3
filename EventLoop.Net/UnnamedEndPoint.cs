using System.Net;
using System.Net.Sockets;

namespace EventLoop.Net;

/// <summary>
/// The address of an unbound Unix domain socket (a datagram sender that never called bind), which
/// <see cref="UnixDomainSocketEndPoint"/> cannot represent. It cannot be sent to.
/// </summary>
public sealed class UnnamedEndPoint : EndPoint
{
    /// <summary>The one instance.</summary>
    public static UnnamedEndPoint Instance { get; } = new();

    private UnnamedEndPoint()
    {
    }

    /// <inheritdoc/>
    public override AddressFamily AddressFamily => AddressFamily.Unix;

    /// <inheritdoc/>
    public override string ToString() => "unix:(unnamed)";
}
