using EventLoop.Tests.Core;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Extending;

/// <summary>The documented trigger mode of <see cref="ReadinessWatch"/>, on whichever back end the suite runs.</summary>
public sealed class ReadinessWatchTests
{
    [Fact]
    public void Watch_DataArrives_ReportsReadInThePollPhase()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new RecordingHandler();
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);

            TestPipe.Write(write, "a"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            Assert.Equal([IoEvents.Read], handler.Reports);
            Assert.Same(watch, handler.LastWatch);
        }
    }

    [Fact]
    public void Watch_StillReadyButNotRearmed_IsNotReportedAgain()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new RecordingHandler();
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            TestPipe.Write(write, "a"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            // The byte is still unread: a level-triggered watch would report it on every iteration.
            for (int i = 0; i < 3; i++)
            {
                loop.RunOnce(TimeSpan.Zero);
            }

            Assert.Single(handler.Reports);
        }
    }

    [Fact]
    public void Arm_AfterDrainingToEagain_ReportsTheNextData()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new RecordingHandler();
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            TestPipe.Write(write, "a"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));
            Polling.TestFds.Drain((int)read.DangerousGetHandle());

            watch.Arm(IoEvents.Read);
            TestPipe.Write(write, "b"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            Assert.Equal([IoEvents.Read, IoEvents.Read], handler.Reports);
            // epoll keeps the direction armed; the poll(2) back end disarmed what it reported.
            Assert.Equal(watch.StaysArmed, (watch.Armed & IoEvents.Read) != 0);
        }
    }

    [Fact]
    public void OnReady_Throws_GoesToTheUnhandledHandlerAndTheLoopKeepsRunning()
    {
        var errors = new List<Exception>();
        using var loop = new Loop(new LoopOptions { UnhandledException = errors.Add });
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new RecordingHandler { Throw = new InvalidOperationException("driver bug") };
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            bool ran = false;
            loop.Post(() => ran = true);

            TestPipe.Write(write, "a"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            Assert.Same(handler.Throw, Assert.Single(errors));
            Assert.True(ran);
        }
    }

    [Fact]
    public void Dispose_Idempotent_UnregistersAndArmThenThrows()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            ReadinessWatch watch = loop.Watch(read, IoEvents.None, new RecordingHandler());
            Assert.Equal(1, loop.Statistics.Registrations);

            watch.Dispose();
            watch.Dispose();

            Assert.True(watch.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => watch.Arm(IoEvents.Read));
            LoopAssert.NoLiveHandles(loop);
        }
    }

    [Fact]
    public void Watch_BadArguments_Throw()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => loop.Watch(read, (IoEvents)4, new RecordingHandler()));
            Assert.Throws<ArgumentNullException>(() => loop.Watch(read, IoEvents.Read, null!));
            using ReadinessWatch watch = loop.Watch(read, IoEvents.Read, new RecordingHandler());
            Assert.Throws<ArgumentOutOfRangeException>(() => watch.Arm((IoEvents)8));
            Assert.Throws<InvalidOperationException>(() => loop.Watch(read, IoEvents.Read, new RecordingHandler()));
        }

        var closed = TestPipe.Create();
        closed.Write.Dispose();
        closed.Read.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Watch(closed.Read, IoEvents.Read, new RecordingHandler()));
    }

    [Fact]
    public void LoopDispose_TellsTheHandlerAndReleasesTheWatch()
    {
        var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            var handler = new RecordingHandler();
            ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);

            loop.Dispose();

            Assert.Equal(1, handler.Disposals);
            Assert.True(watch.IsDisposed);
        }
    }

    private sealed class RecordingHandler : IReadinessHandler
    {
        public List<IoEvents> Reports { get; } = [];

        public ReadinessWatch? LastWatch { get; private set; }

        public int Disposals { get; private set; }

        public Exception? Throw { get; init; }

        public void OnReady(ReadinessWatch watch, IoEvents events)
        {
            LastWatch = watch;
            Reports.Add(events);
            if (Throw is not null)
            {
                throw Throw;
            }
        }

        public void OnLoopDisposed(ReadinessWatch watch) => Disposals++;
    }
}
