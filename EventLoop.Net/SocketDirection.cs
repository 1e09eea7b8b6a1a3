namespace EventLoop.Net;

/// <summary>The readiness an operation waits for.</summary>
internal enum SocketDirection
{
    /// <summary>Readable: data, a connection to accept, end of stream or an error.</summary>
    Read,

    /// <summary>Writable: room in the send buffer, a completed connect, or an error.</summary>
    Write,
}
