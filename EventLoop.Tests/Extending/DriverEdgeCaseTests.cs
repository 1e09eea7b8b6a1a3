using System.Runtime.InteropServices;
using EventLoop.Tests.Core;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Extending;

/// <summary>
/// Edge cases of the extension surface, seen from drivers written against the public API only:
/// an eventfd counter (a <see cref="LoopWaitSource{TResult}"/> that names itself in dumps) and
/// bare watches on pipes.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed partial class DriverEdgeCaseTests
{
    [Fact]
    public void GetGreenlets_GreenletInADriverWait_NamesTheWaitByDescribe()
    {
        using Loop loop = LoopAssert.Virtual();
        using var counter = new EventFdCounter(loop);
        IReadOnlyList<GreenletInfo>? snapshot = null;
        var dump = new StringWriter();
        Greenlet waiter = loop.Spawn(async () => await counter.TakeAsync());
        loop.Run(async () =>
        {
            await loop.Yield();
            await loop.Yield();
            snapshot = loop.GetGreenlets();
            loop.DumpGreenlets(dump);
            counter.Add(1);
            await loop.JoinAllAsync([waiter]);
        });

        GreenletInfo info = Assert.Single(snapshot!, g => g.Id == waiter.Id);
        Assert.Equal($"EventFd.Take on fd {counter.Descriptor}", info.WaitingOn);
        Assert.Contains($"EventFd.Take on fd {counter.Descriptor}", dump.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void OnReady_DisposesItsOwnWatch_NoFurtherReportsAndTheDescriptorCanBeWatchedAgain()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            int reports = 0;
            var handler = new DelegateHandler((w, _) =>
            {
                reports++;
                w.Dispose();
            });
            ReadinessWatch watch = loop.Watch(read, IoEvents.Read, handler);
            TestPipe.Write(write, "a"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));
            TestPipe.Write(write, "b"u8);
            loop.RunOnce(TimeSpan.Zero);
            loop.RunOnce(TimeSpan.Zero);

            Assert.Equal(1, reports);
            Assert.True(watch.IsDisposed);
            var again = new RecordingHandler();
            using ReadinessWatch second = loop.Watch(read, IoEvents.Read, again);
            loop.RunOnce(TimeSpan.FromSeconds(5));
            Assert.Equal([IoEvents.Read], again.Reports);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void OnReady_DisposesAnotherReadyWatchAndWatchesANewDescriptor_TheNewWatchGetsNoStaleReport()
    {
        // Two pipes ready in one poll. Whichever watch is reported first disposes the other one
        // and watches a third, idle pipe with nothing armed. That new watch must not receive
        // the disposed watch's report of the same batch (an unarmed direction that is neither
        // an error nor a hang-up, which StaysArmed says cannot happen on the poll back end).
        using var loop = new Loop();
        (SafeFileHandle r1, SafeFileHandle w1) = TestPipe.Create();
        (SafeFileHandle r2, SafeFileHandle w2) = TestPipe.Create();
        (SafeFileHandle r3, SafeFileHandle w3) = TestPipe.Create();
        using (r1)
        using (w1)
        using (r2)
        using (w2)
        using (r3)
        using (w3)
        {
            var idle = new RecordingHandler();
            ReadinessWatch? a = null, b = null, c = null;
            var handler = new DelegateHandler((w, _) =>
            {
                if (c is not null)
                {
                    return;
                }

                (w == a ? b : a)!.Dispose();
                c = loop.Watch(r3, IoEvents.None, idle);
            });
            a = loop.Watch(r1, IoEvents.Read, handler);
            b = loop.Watch(r2, IoEvents.Read, handler);
            TestPipe.Write(w1, "a"u8);
            TestPipe.Write(w2, "b"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            Assert.NotNull(c);
            Assert.Empty(idle.Reports);
            a.Dispose();
            b.Dispose();
            c.Dispose();
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Watch_PreviousHandleOfTheSameNumberClosedWithoutDisposingItsWatch_Succeeds()
    {
        // A driver that closed its descriptor before disposing its watch: the number is free
        // again, and a new descriptor that reuses it can be watched on every back end, as an
        // IoRegistration can.
        using var loop = new Loop();
        (SafeFileHandle r1, SafeFileHandle w1) = TestPipe.Create();
        ReadinessWatch stale = loop.Watch(r1, IoEvents.Read, new RecordingHandler());
        int number = stale.Descriptor;
        r1.Dispose();
        w1.Dispose();

        (SafeFileHandle r2, SafeFileHandle w2) = TestPipe.Create();
        using (r2)
        using (w2)
        {
            Assert.Equal(number, (int)r2.DangerousGetHandle()); // lowest free number
            var fresh = new RecordingHandler();
            using ReadinessWatch watch = loop.Watch(r2, IoEvents.Read, fresh);
            TestPipe.Write(w2, "x"u8);
            loop.RunOnce(TimeSpan.FromSeconds(5));

            Assert.Equal([IoEvents.Read], fresh.Reports);
            stale.Dispose(); // late, and must not unwatch the new descriptor
            TestPipe.Write(w2, "y"u8);
            if (!watch.StaysArmed)
            {
                watch.Arm(IoEvents.Read);
            }

            loop.RunOnce(TimeSpan.FromSeconds(5));
            Assert.Equal(2, fresh.Reports.Count);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Arm_FromAnotherThreadWhileTheLoopRuns_ThrowsInvalidOperationNamingIt()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (read)
        using (write)
        {
            using ReadinessWatch watch = loop.Watch(read, IoEvents.None, new RecordingHandler());
            Exception? error = loop.Run(() => Task.Run(() => Record.Exception(() => watch.Arm(IoEvents.Read))));

            InvalidOperationException wrongThread = Assert.IsType<InvalidOperationException>(error);
            Assert.StartsWith("ReadinessWatch.Arm was called from thread", wrongThread.Message, StringComparison.Ordinal);
            Assert.Equal(IoEvents.None, watch.Armed);
        }
    }

    [Fact]
    public void TrySetResultAndBegin_FromAnotherThreadWhileTheLoopRuns_ThrowAndTheWaitStaysPending()
    {
        // A driver that completes its wait from a foreign thread (a blocking read on a thread of
        // its own, a library callback) must hop with RunOrPost; the mistake fails loudly instead
        // of racing the loop on the wait's state.
        using var loop = new Loop();
        var wait = new ManualWait(loop);
        Exception? error = null;
        bool pendingAfter = false;
        Exception? beginError = null;
        int result = loop.Run(async () =>
        {
            ValueTask<int> pending = wait.Start();
            error = await Task.Run(() => Record.Exception(() => wait.TrySetResult(1)));
            pendingAfter = wait.IsPending;
            beginError = await Task.Run(() => Record.Exception(() => new ManualWait(loop).Start()));
            await Task.Run(() => loop.RunOrPost(static s => ((ManualWait)s!).TrySetResult(2), wait));
            return await pending;
        });

        InvalidOperationException wrongThread = Assert.IsType<InvalidOperationException>(error);
        Assert.StartsWith("LoopWaitSource.TrySetResult was called from thread", wrongThread.Message, StringComparison.Ordinal);
        Assert.True(pendingAfter);
        Assert.Equal(2, result);
        Assert.StartsWith("LoopWaitSource.Begin was called from thread", Assert.IsType<InvalidOperationException>(beginError).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Begin_PreviousWaitCompletedButItsAwaiterHasNotResumed_ThrowsAndTheResultIsKept()
    {
        // A driver with one wait source (as in ARCHITECTURE's pipe reader) that starts the next
        // wait in the window between handing over a result and the awaiter taking it: the new
        // wait must not wipe the outcome the first awaiter is about to take.
        using Loop loop = LoopAssert.Virtual();
        var wait = new ManualWait(loop);
        Exception? error = null;
        int first = loop.Run(async () =>
        {
            ValueTask<int> pending = wait.Start();
            Assert.True(wait.TrySetResult(1));
            error = Record.Exception(() => wait.Start());
            return await pending;
        });

        Assert.Equal(1, first);
        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void GetGreenlets_DriverDescribeThrows_SnapshotStillTakenAndNamesTheWaitType()
    {
        using Loop loop = LoopAssert.Virtual();
        var wait = new FaultyWait(loop) { DescribeThrows = true };
        IReadOnlyList<GreenletInfo>? snapshot = null;
        var dump = new StringWriter();
        Greenlet waiter = loop.Spawn(async () => await wait.Start());
        loop.Run(async () =>
        {
            await loop.Yield();
            await loop.Yield();
            snapshot = loop.GetGreenlets();
            loop.DumpGreenlets(dump);
            wait.TrySetResult(1);
            await loop.JoinAllAsync([waiter]);
        });

        GreenletInfo info = Assert.Single(snapshot!, g => g.Id == waiter.Id);
        Assert.Contains(nameof(FaultyWait), info.WaitingOn, StringComparison.Ordinal);
        Assert.Contains(nameof(FaultyWait), dump.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Kill_DriverOnCompletingThrows_GreenletStillEndsAndTheErrorIsReported()
    {
        var errors = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = errors.Add });
        var wait = new FaultyWait(loop) { OnCompletingThrows = true };
        Greenlet blocked = loop.Spawn(async () => await wait.Start());
        loop.Run(async () =>
        {
            await loop.Yield();
            await loop.Yield();
            blocked.Kill();
            await loop.MoveOnAfter(TimeSpan.FromSeconds(10), () => loop.JoinAllAsync([blocked]));
        });

        Assert.True(blocked.IsCompleted);
        Assert.IsAssignableFrom<OperationCanceledException>(blocked.Exception);
        Assert.Contains(errors, e => e.Message == "OnCompleting failed");
    }

    [Fact]
    public void CompletionIo_KillRacesAReceiveThatMayHaveCompleted_NoDataIsLost()
    {
        using var loop = new Loop();
        if (loop.CompletionIo is null)
        {
            return; // not the io_uring back end
        }

        (SafeFileHandle mine, SafeFileHandle peer) = SocketPair();
        using (peer)
        using (var reader = new RingReader(loop, mine))
        {
            Greenlet blocked = loop.Spawn(async () => await reader.ReadAsync());
            loop.RunOnce(TimeSpan.Zero);
            loop.RunOnce(TimeSpan.Zero); // the receive is with the kernel now
            Assert.Equal(1, loop.CompletionIo.InFlight);

            TestPipe.Write(peer, "hello"u8);
            blocked.Kill(); // on the loop's owner thread: the receive is cancelled here, now
            Assert.Equal(0, loop.CompletionIo.InFlight);

            string next = loop.Run(async () => await reader.ReadAsync());

            Assert.IsAssignableFrom<OperationCanceledException>(blocked.Exception);
            Assert.Equal("hello", next);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void LoopDispose_WhileAGreenletWaitsOnTheDriver_ClosesEveryDescriptor()
    {
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        Greenlet blocked;
        EventFdCounter counter;
        using (var loop = new Loop())
        {
            counter = new EventFdCounter(loop);
            blocked = loop.Spawn(async () => await counter.TakeAsync());
            loop.RunOnce(TimeSpan.Zero);
            loop.RunOnce(TimeSpan.Zero);
            Assert.True(counter.IsWaiting);
        }

        Assert.True(blocked.IsCompleted);
        Assert.True(counter.IsDisposed);
        before.AssertOpenedSince(0);
    }

    /// <summary>An eventfd counter: <see cref="TakeAsync"/> waits for a non-zero count and takes it all.</summary>
    private sealed partial class EventFdCounter : IReadinessHandler, IDisposable
    {
        private const int EFD_NONBLOCK = 0x800;
        private const int EFD_CLOEXEC = 0x80000;
        private const int EAGAIN = 11;

        private readonly SafeFileHandle _handle;
        private readonly ReadinessWatch _watch;
        private readonly TakeOperation _take;
        private bool _readable = true;

        public EventFdCounter(Loop loop)
        {
            int fd = EventFd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd < 0)
            {
                throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
            }

            _handle = new SafeFileHandle(fd, ownsHandle: true);
            _take = new TakeOperation(loop, this);
            _watch = loop.Watch(_handle, IoEvents.Read, this);
        }

        public int Descriptor => _watch.Descriptor;

        public bool IsWaiting => _take.IsPending;

        public bool IsDisposed { get; private set; }

        public ValueTask<ulong> TakeAsync(CancellationToken cancellationToken = default)
        {
            _watch.Loop.VerifyAccess();
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (_readable && TryTake(out ulong value))
            {
                return new ValueTask<ulong>(value);
            }

            return _take.Start(cancellationToken);
        }

        public void Add(ulong value)
        {
            if (Write(_handle, ref value, sizeof(ulong)) != sizeof(ulong))
            {
                throw new IOException($"eventfd write failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        public void Dispose()
        {
            if (IsDisposed)
            {
                return;
            }

            IsDisposed = true;
            _take.TrySetException(new ObjectDisposedException(nameof(EventFdCounter)));
            _watch.Dispose();
            _handle.Dispose();
        }

        void IReadinessHandler.OnReady(ReadinessWatch watch, IoEvents events)
        {
            _readable = true;
            if (_take.IsPending && TryTake(out ulong value))
            {
                _take.TrySetResult(value);
            }
        }

        void IReadinessHandler.OnLoopDisposed(ReadinessWatch watch) => Dispose();

        private bool TryTake(out ulong value)
        {
            value = 0;
            if (Read(_handle, ref value, sizeof(ulong)) == sizeof(ulong))
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != EAGAIN)
            {
                throw new IOException($"eventfd read failed: errno {errno}");
            }

            _readable = false;
            _watch.Arm(IoEvents.Read);
            return false;
        }

        [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
        private static partial int EventFd(uint initval, int flags);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        private static partial nint Read(SafeFileHandle fd, ref ulong buffer, nint count);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        private static partial nint Write(SafeFileHandle fd, ref ulong buffer, nint count);

        private sealed class TakeOperation(Loop loop, EventFdCounter counter) : LoopWaitSource<ulong>(loop)
        {
            public ValueTask<ulong> Start(CancellationToken cancellationToken)
            {
                Begin(cancellationToken);
                return new ValueTask<ulong>(this, Version);
            }

            public override string Describe() => $"EventFd.Take on fd {counter.Descriptor}";
        }
    }

    private sealed class ManualWait(Loop loop) : LoopWaitSource<int>(loop)
    {
        public ValueTask<int> Start()
        {
            Begin(default);
            return new ValueTask<int>(this, Version);
        }
    }

    private sealed class FaultyWait(Loop loop) : LoopWaitSource<int>(loop)
    {
        public bool DescribeThrows { get; init; }

        public bool OnCompletingThrows { get; init; }

        public ValueTask<int> Start()
        {
            Begin(default);
            return new ValueTask<int>(this, Version);
        }

        public override string Describe() => DescribeThrows ? throw new InvalidOperationException("Describe failed") : base.Describe();

        protected override void OnCompleting()
        {
            if (OnCompletingThrows)
            {
                throw new InvalidOperationException("OnCompleting failed");
            }
        }
    }

    private static (SafeFileHandle, SafeFileHandle) SocketPair()
    {
        Span<int> fds = stackalloc int[2];
        if (SocketPairNative(1 /* AF_UNIX */, 1 | 0x800 | 0x80000 /* SOCK_STREAM | NONBLOCK | CLOEXEC */, 0, ref MemoryMarshal.GetReference(fds)) != 0)
        {
            throw new IOException($"socketpair failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairNative(int domain, int type, int protocol, ref int fds);

    /// <summary>
    /// A completion-based reader (io_uring): a receive into the driver's own buffer; a wait that a
    /// kill, deadline or token ends cancels the receive and keeps what it had already received.
    /// </summary>
    private sealed class RingReader : ICompletionHandler, IDisposable
    {
        private readonly SafeFileHandle _handle;
        private readonly CompletionRequest _request;
        private readonly ReceiveWait _wait;
        private readonly byte[] _buffer = new byte[64];
        private int _kept; // bytes received for a wait that had already ended

        public RingReader(Loop loop, SafeFileHandle handle)
        {
            _handle = handle;
            _request = loop.CompletionIo!.CreateRequest(this);
            _wait = new ReceiveWait(loop, this);
        }

        public ValueTask<string> ReadAsync()
        {
            if (_kept > 0)
            {
                string kept = System.Text.Encoding.ASCII.GetString(_buffer, 0, _kept);
                _kept = 0;
                return new ValueTask<string>(kept);
            }

            return _wait.Start();
        }

        public void OnCompleted(CompletionRequest request, int result)
        {
            if (result < 0)
            {
                _wait.TrySetException(new IOException($"recv failed: errno {-result}"));
            }
            else
            {
                _wait.TrySetResult(System.Text.Encoding.ASCII.GetString(_buffer, 0, result));
            }
        }

        public void Dispose()
        {
            _wait.TrySetException(new ObjectDisposedException(nameof(RingReader)));
            _handle.Dispose();
        }

        private sealed class ReceiveWait(Loop loop, RingReader reader) : LoopWaitSource<string>(loop)
        {
            public ValueTask<string> Start()
            {
                if (Begin(default))
                {
                    reader._request.Receive(reader._handle, reader._buffer);
                }

                return new ValueTask<string>(this, Version);
            }

            protected override void OnCompleting()
            {
                if (reader._request.IsInFlight && reader._request.TryCancel(out int result) && result > 0)
                {
                    reader._kept = result;
                }
            }
        }
    }

    private sealed class DelegateHandler(Action<ReadinessWatch, IoEvents> onReady) : IReadinessHandler
    {
        public void OnReady(ReadinessWatch watch, IoEvents events) => onReady(watch, events);

        public void OnLoopDisposed(ReadinessWatch watch)
        {
        }
    }

    private sealed class RecordingHandler : IReadinessHandler
    {
        public List<IoEvents> Reports { get; } = [];

        public void OnReady(ReadinessWatch watch, IoEvents events) => Reports.Add(events);

        public void OnLoopDisposed(ReadinessWatch watch)
        {
        }
    }
}
