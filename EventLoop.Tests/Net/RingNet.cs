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

    /// <summary>
    /// Runs <paramref name="body"/> with a connected pair on a fresh io_uring loop that has
    /// completion I/O (nothing where there is none); disposes the pair and its listener, then
    /// asserts that no registration is left.
    /// </summary>
    public static void RunPair(Func<Loop, StreamConnection, StreamConnection, Task> body)
    {
        using Loop? loop = CreateLoop();
        if (loop is null)
        {
            return;
        }

        LoopNet.RunPair(loop, body);
    }
}
