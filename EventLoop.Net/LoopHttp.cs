namespace EventLoop.Net;

/// <summary>Runs <see cref="System.Net.Http.HttpClient"/>'s connections on a loop's sockets.</summary>
public static class LoopHttp
{
    /// <summary>
    /// Creates a <see cref="SocketsHttpHandler"/> whose <see cref="SocketsHttpHandler.ConnectCallback"/>
    /// opens a <see cref="StreamConnection"/> on <paramref name="loop"/> and hands HttpClient its
    /// <see cref="StreamConnection.AsStream"/>, so every byte HttpClient reads or writes goes through
    /// the loop's poller. HttpClient may call the stream from thread-pool threads; those calls are
    /// marshalled onto the loop, so the loop must be running (e.g. the request is awaited in a greenlet);
    /// a request still reading or writing when the loop is disposed fails with the loop's
    /// <see cref="ObjectDisposedException"/> (inside an <see cref="HttpRequestException"/> while it
    /// waits for the response).
    /// The synchronous <see cref="System.Net.Http.HttpClient.Send(System.Net.Http.HttpRequestMessage)"/>
    /// blocks its thread until the loop has done the I/O: call it off the loop thread only (on it,
    /// it waits for ever for the loop it blocks).
    /// The other settings are SocketsHttpHandler's defaults and can be changed on the result.
    /// </summary>
    /// <param name="loop">The loop whose sockets carry the connections.</param>
    /// <returns>A new handler; dispose it (or the HttpClient that owns it) to close its connections.</returns>
    public static SocketsHttpHandler CreateHandler(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                // The connection is the pool's, not the request's: the pool may call this in the
                // ExecutionContext of whichever request's flow started the attempt (one whose
                // connection just died included), whose greenlet would then own the attempt, and
                // its kill would fail a connection the pool hands to another request. Started
                // without that context, the attempt is nobody's loop wait.
                Task<StreamConnection> connect;
                using (ExecutionContext.SuppressFlow())
                {
                    connect = Task.Run(() => loop.ConnectAsync(context.DnsEndPoint, cancellationToken), CancellationToken.None);
                }

                StreamConnection connection = await connect.ConfigureAwait(false);
                return connection.AsStream();
            },
        };
    }
}
