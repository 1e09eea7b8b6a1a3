using System.Net;

namespace EventLoop.Net;

/// <summary>One datagram received by <see cref="DatagramSocket.ReceiveFromAsync"/>.</summary>
/// <param name="ReceivedBytes">The datagram's length (truncated to the buffer when it was larger).</param>
/// <param name="RemoteEndPoint">The sender.</param>
public readonly record struct DatagramReceiveResult(int ReceivedBytes, EndPoint RemoteEndPoint);
