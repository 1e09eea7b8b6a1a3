using System.Net;

namespace EventLoop.Net;

/// <summary>One datagram received by <see cref="DatagramSocket.ReceiveFromAsync"/>.</summary>
/// <param name="ReceivedBytes">The bytes written to the buffer: the datagram's length, or the buffer's when the datagram was larger.</param>
/// <param name="RemoteEndPoint">The sender.</param>
public readonly record struct DatagramReceiveResult(int ReceivedBytes, EndPoint RemoteEndPoint)
{
    /// <summary>
    /// True when the datagram was larger than the buffer: <see cref="ReceivedBytes"/> is the part
    /// that fit, and the rest was discarded (a datagram is never split across receives).
    /// </summary>
    public bool Truncated { get; init; }
}
