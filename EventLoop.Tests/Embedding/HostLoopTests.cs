using System.Diagnostics;
using EventLoop.Tests.Polling;

namespace EventLoop.Tests.Embedding;

/// <summary>
/// The embedding pattern end to end: a host with a main loop of its own (here poll(2) over its
/// own descriptors, as GLib or Qt would) adds the loop's <see cref="Loop.BackendDescriptor"/> to
/// what it waits on and runs <c>RunOnce(TimeSpan.Zero)</c> whenever that one is readable.
/// </summary>
public sealed class HostLoopTests
{
    [Fact]
    public void HostMainLoop_RunsItsOwnEventsAndTheLoopsGreenlets_OnOneWait()
    {
        using Loop loop = new();
        int loopFd = loop.BackendDescriptor;
        if (loopFd < 0)
        {
            return; // poll(2), io_uring: such a host sleeps at most GetPollTimeout() instead
        }

        (int hostRead, int hostWrite) = TestFds.Pipe();
        try
        {
            // The loop's side: a greenlet waits for a worker thread's result, ticks three times on
            // loop timers, then tells the host it is done through the host's own descriptor.
            var ticks = new List<int>();
            var result = new LoopEvent(loop);
            int answer = 0;
            loop.Spawn(async () =>
            {
                await result.WaitAsync();
                for (int i = 1; i <= 3; i++)
                {
                    await loop.Sleep(TimeSpan.FromMilliseconds(30));
                    ticks.Add(i * answer);
                }

                TestFds.WriteByte(hostWrite);
            });
            var worker = new Thread(() => loop.Post(() =>
            {
                answer = 42;
                result.Set();
            }));
            worker.Start();

            // The host's side: one wait for everything; it never asks the loop how long to sleep.
            bool quit = false;
            int loopWakeUps = 0;
            var elapsed = Stopwatch.StartNew();
            Span<bool> readable = stackalloc bool[2];
            while (!quit && elapsed.Elapsed < TimeSpan.FromSeconds(10))
            {
                if (!HostPoll.Wait([hostRead, loopFd], readable, timeoutMs: 1_000))
                {
                    continue;
                }

                if (readable[1])
                {
                    loopWakeUps++;
                    loop.RunOnce(TimeSpan.Zero);
                }

                if (readable[0])
                {
                    TestFds.Drain(hostRead);
                    quit = true;
                }
            }

            worker.Join();
            Assert.True(quit, "the host never heard from the embedded loop");
            Assert.Equal([42, 84, 126], ticks);
            Assert.InRange(loopWakeUps, 1, 30);
        }
        finally
        {
            TestFds.Close(hostRead);
            TestFds.Close(hostWrite);
        }
    }
}
