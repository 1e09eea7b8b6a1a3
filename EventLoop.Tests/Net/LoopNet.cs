using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>Helpers for tests that run real loopback sockets on a loop (whichever back end EVENTLOOP_POLLER selects).</summary>
internal static class LoopNet
{
    public static readonly IPEndPoint AnyPort = new(IPAddress.Loopback, 0);

    /// <summary>A loop whose unhandled exceptions are collected instead of printed.</summary>
    public static Loop Create(List<Exception>? unhandled = null) =>
        new(new LoopOptions { UnhandledException = unhandled is null ? null : ex => { lock (unhandled) { unhandled.Add(ex); } } });

    /// <summary>Runs <paramref name="main"/> on the loop with a generous watchdog (liveness, not speed).</summary>
    public static void Run(Loop loop, Func<Task> main, int seconds = 30)
    {
        loop.Run(async () =>
        {
            TimerHandle watchdog = loop.CallLater(TimeSpan.FromSeconds(seconds), loop.Stop);
            try
            {
                await main();
            }
            finally
            {
                watchdog.Cancel();
            }
        });
    }

    /// <summary>Like <see cref="Run(Loop, Func{Task}, int)"/>, returning main's result.</summary>
    public static T Run<T>(Loop loop, Func<Task<T>> main, int seconds = 30)
    {
        T result = default!;
        Run(loop, async () => { result = await main(); }, seconds);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="loop"/> (idle, owned by the calling thread) on a background thread of
    /// its own until it is stopped, and returns once that thread runs it: from then on every other
    /// thread is off the loop. Join the thread after <see cref="Loop.Stop"/>.
    /// </summary>
    public static Thread RunOnAnotherThread(Loop loop)
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(running.SetResult);
        var runner = new Thread(loop.Run) { IsBackground = true, Name = "loop runner" };
        runner.Start();
        running.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        return runner;
    }

    /// <summary>A listener on a loopback port and a connected pair through it.</summary>
    public static async Task<(StreamConnection Client, StreamConnection Accepted, StreamListener Listener)> ConnectAsync(Loop loop)
    {
        StreamListener listener = loop.Listen(AnyPort);
        StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
        StreamConnection accepted = await listener.AcceptAsync();
        return (client, accepted, listener);
    }

    /// <summary>
    /// Runs <paramref name="body"/> with a connected pair on <paramref name="loop"/>; disposes the
    /// pair and its listener, then asserts that no registration is left.
    /// </summary>
    public static void RunPair(Loop loop, Func<Loop, StreamConnection, StreamConnection, Task> body)
    {
        Run(loop, async () =>
        {
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = await ConnectAsync(loop);
            using (listener)
            using (client)
            using (accepted)
            {
                await body(loop, client, accepted);
            }
        });
        AssertNoRegistrations(loop);
    }

    /// <summary>Receives exactly <paramref name="buffer"/>.Length bytes, or throws at end of stream.</summary>
    public static async Task ReceiveExactlyAsync(this StreamConnection connection, Memory<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await connection.ReceiveAsync(buffer[total..]);
            if (n == 0)
            {
                throw new EndOfStreamException($"peer closed after {total} of {buffer.Length} bytes");
            }

            total += n;
        }
    }

    /// <summary>Reads until the peer closes; returns everything.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(this StreamConnection connection)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    /// <summary>Echoes until the peer closes.</summary>
    public static async Task EchoAsync(StreamConnection connection, CancellationToken cancellationToken = default)
    {
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer, cancellationToken)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, n), cancellationToken);
        }
    }

    /// <summary>A fresh, unused Unix socket path in the temp directory.</summary>
    public static string TempSocketPath() => Path.Combine(Path.GetTempPath(), $"el-{Guid.NewGuid():N}.sock"[..20]);

    /// <summary>
    /// Drives 64-byte round trips from <paramref name="client"/> to an echoing peer on the same
    /// loop (run here, one iteration at a time): 200 to warm up, then asserts that 500 more
    /// allocate nothing on this thread, which is the loop's, in at least one of three windows.
    /// </summary>
    public static void AssertWarmRoundTripsAllocateNothing(Loop loop, StreamConnection client)
    {
        byte[] message = new byte[64];
        byte[] reply = new byte[64];

        void RoundTrip()
        {
            ValueTask send = client.SendAsync(message);
            Assert.True(send.IsCompletedSuccessfully);
            send.GetAwaiter().GetResult();
            int received = 0;
            while (received < reply.Length)
            {
                ValueTask<int> receive = client.ReceiveAsync(reply.AsMemory(received));
                while (!receive.IsCompleted)
                {
                    loop.RunOnce(Timeout.InfiniteTimeSpan);
                }

                received += receive.GetAwaiter().GetResult();
            }
        }

        for (int i = 0; i < 200; i++)
        {
            RoundTrip();
        }

        Assert.Equal(0, AllocationWindows.Quietest(3, () =>
        {
            for (int i = 0; i < 500; i++)
            {
                RoundTrip();
            }
        }));
    }

    /// <summary>Asserts the loop holds no registrations (every socket was closed).</summary>
    public static void AssertNoRegistrations(Loop loop) => Assert.Equal(0, loop.Statistics.Registrations);

    /// <summary>
    /// Like <see cref="AssertNoRegistrations"/> once the closes other threads have posted have run.
    /// HttpClient may dispose a connection on a thread-pool thread, after the request that used it
    /// has returned (a connection handed back to a pool that was disposed meanwhile closes itself
    /// there): its stream's dispose is posted to the loop, which has to turn to run it. Each
    /// iteration waits for a post (no fixed delay); the bound is for liveness only.
    /// </summary>
    public static void AssertNoRegistrationsOncePostedClosesRan(Loop loop)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (loop.Statistics.Registrations != 0 && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            loop.RunOnce(TimeSpan.FromMilliseconds(100));
        }

        AssertNoRegistrations(loop);
    }

    /// <summary>
    /// Fixes the connection's send buffer at 64 KiB (the kernel doubles it), for a test that needs
    /// a multi-MiB send to wait: the kernel grows an untouched buffer during the send toward
    /// tcp_wmem's maximum (≈ 3.8 MiB seen, with 4 MiB allowed), and now and then the whole payload fits.
    /// </summary>
    public static void LimitSendBuffer(StreamConnection connection) =>
        Assert.Equal(SocketError.Success, SocketPal.SetSendBufferSize(connection.Socket.Fd, 64 * 1024));
}
