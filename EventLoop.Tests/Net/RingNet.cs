using EventLoop.Net;
using EventLoop.Polling;

namespace EventLoop.Tests.Net;

/// <summary>Helpers for the tests of EventLoop.Net through the io_uring ring (<see cref="Loop.CompletionIo"/>).</summary>
internal static class RingNet
{
    /// <summary>A loop on io_uring with completion I/O; null where this machine has neither.</summary>
    public static Loop? CreateLoop()
    {
        if (!IoUringProbe.Current.IsAvailable)
        {
            return null;
        }

        var loop = new Loop(new LoopOptions { Poller = PollerKind.IoUring });
        if (loop.CompletionIo is null)
        {
            loop.Dispose();
            return null;
        }

        return loop;
    }

    /// <summary>A listener on a loopback port and a connected pair through it.</summary>
    public static async Task<(StreamConnection Client, StreamConnection Accepted, StreamListener Listener)> ConnectAsync(Loop loop)
    {
        StreamListener listener = loop.Listen(LoopNet.AnyPort);
        StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
        StreamConnection accepted = await listener.AcceptAsync();
        return (client, accepted, listener);
    }
}
