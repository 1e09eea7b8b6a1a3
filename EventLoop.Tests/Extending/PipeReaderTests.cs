using EventLoop.Tests.Core;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Extending;

/// <summary>
/// A driver built on the public extension surface alone behaves like the library's own sockets:
/// kills, cancel-scope deadlines and tokens interrupt its waits, and warm waits allocate nothing.
/// </summary>
public sealed class PipeReaderTests
{
    [Fact]
    public void ReadAsync_DataAlreadyWritten_CompletesSynchronously()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            TestPipe.Write(write, "abc"u8);
            var buffer = new byte[16];

            ValueTask<int> pending = reader.ReadAsync(buffer);

            Assert.True(pending.IsCompletedSuccessfully);
            Assert.Equal("abc"u8.ToArray(), buffer[..pending.Result]);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void ReadAsync_Empty_WaitsUntilTheWriterWrites()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            var order = new List<string>();
            string received = loop.Run(async () =>
            {
                Greenlet writer = loop.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    order.Add("write");
                    TestPipe.Write(write, "hello"u8);
                });
                var buffer = new byte[16];
                order.Add("read");
                int n = await reader.ReadAsync(buffer);
                order.Add("got");
                await writer;
                return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
            });

            Assert.Equal("hello", received);
            Assert.Equal(["read", "write", "got"], order);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void ReadAsync_WriterClosed_ReturnsZero()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using var reader = new PipeReader(loop, read);

        int n = loop.Run(async () =>
        {
            _ = loop.Spawn(async () =>
            {
                await loop.Yield();
                write.Dispose();
            });
            return await reader.ReadAsync(new byte[16]);
        });

        Assert.Equal(0, n);
    }

    [Fact]
    public void Kill_WhileReadWaits_EndsTheGreenletAndTheReaderStaysUsable()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            var buffer = new byte[16];
            Greenlet blocked = loop.Spawn(async () => await reader.ReadAsync(buffer));
            int after = loop.Run(async () =>
            {
                await loop.Yield();
                await loop.Yield();
                Assert.False(blocked.IsCompleted);

                blocked.Kill();
                await loop.JoinAllAsync([blocked]);

                TestPipe.Write(write, "x"u8);
                return await reader.ReadAsync(buffer);
            });

            Assert.IsAssignableFrom<OperationCanceledException>(blocked.Exception);
            Assert.Equal(1, after);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void FailAfter_WhileReadWaits_ThrowsLoopTimeoutNamingTheScope()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            CancelScope? scope = null;
            LoopTimeoutException? error = null;
            TimeSpan elapsed = loop.Run(async () =>
            {
                long start = loop.Time.GetTimestamp();
                try
                {
                    using (scope = loop.FailAfter(TimeSpan.FromSeconds(3)))
                    {
                        await reader.ReadAsync(new byte[16]);
                    }
                }
                catch (LoopTimeoutException e)
                {
                    error = e;
                }

                return loop.Time.GetElapsedTime(start);
            });

            Assert.NotNull(error);
            Assert.Same(scope, error.Scope);
            Assert.Equal(TimeSpan.FromSeconds(3), elapsed);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void FailAfter_DeadlinePassedBeforeTheRead_FailsAtOnce()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            Exception? error = loop.Run(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await Assert.ThrowsAsync<LoopTimeoutException>(async () => await reader.ReadAsync(new byte[16]));
                    return await Record.ExceptionAsync(async () => await reader.ReadAsync(new byte[16]));
                }
            });

            Assert.IsType<LoopTimeoutException>(error);
        }
    }

    [Fact]
    public void Token_CanceledWhileReadWaits_ThrowsOperationCanceledForThatToken()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        using (var cts = new CancellationTokenSource())
        {
            OperationCanceledException error = loop.Run(async () =>
            {
                _ = loop.Spawn(async () =>
                {
                    await loop.Sleep(TimeSpan.FromSeconds(1));
                    cts.Cancel();
                });
                return await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(new byte[16], cts.Token));
            });

            Assert.Equal(cts.Token, error.CancellationToken);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Token_CanceledFromAnotherThread_HopsToTheLoop()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        using (var cts = new CancellationTokenSource())
        {
            int loopThread = 0;
            int resumedOn = -1;
            loop.Run(async () =>
            {
                loopThread = Environment.CurrentManagedThreadId;
                ValueTask<int> pending = reader.ReadAsync(new byte[16], cts.Token);
                _ = Task.Run(cts.Cancel);
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
                resumedOn = Environment.CurrentManagedThreadId;
            });

            Assert.Equal(loopThread, resumedOn);
        }
    }

    [Fact]
    public void Token_AlreadyCanceled_FailsWithoutConsumingData()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            int n = loop.Run(async () =>
            {
                var buffer = new byte[16];
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(buffer, new CancellationToken(canceled: true)));
                TestPipe.Write(write, "ok"u8);
                return await reader.ReadAsync(buffer);
            });

            Assert.Equal(2, n);
        }
    }

    [Fact]
    public void Dispose_WhileReadWaits_FailsItWithObjectDisposed()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        {
            var reader = new PipeReader(loop, read);
            Exception? error = loop.Run(async () =>
            {
                ValueTask<int> pending = reader.ReadAsync(new byte[16]);
                reader.Dispose();
                return await Record.ExceptionAsync(async () => await pending);
            });

            Assert.IsType<ObjectDisposedException>(error);
            Assert.True(read.IsClosed);
        }

        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void LoopDispose_ClosesTheReader()
    {
        var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        {
            var reader = new PipeReader(loop, read);

            loop.Dispose();

            Assert.True(read.IsClosed);
            Assert.Throws<ObjectDisposedException>(() => { _ = reader.ReadAsync(new byte[1]); });
        }
    }

    [Fact]
    public void ReadAsync_SecondReadWhileOneWaits_Throws()
    {
        using Loop loop = LoopAssert.Virtual();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            loop.Run(async () =>
            {
                ValueTask<int> first = reader.ReadAsync(new byte[4]);
                Assert.Throws<InvalidOperationException>(() => { _ = reader.ReadAsync(new byte[4]); });
                TestPipe.Write(write, "z"u8);
                Assert.Equal(1, await first);
            });
        }
    }

    [Fact]
    public void ReadAsync_WaitingReads_AllocateNothingOnceWarm()
    {
        const int Reads = 2_000;
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using (write)
        using (var reader = new PipeReader(loop, read))
        {
            byte[] one = [7];
            var buffer = new byte[8];
            int waited = 0;
            Action writeOne = () => TestPipe.Write(write, one);
            long allocated = loop.Run(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    loop.Post(writeOne);
                    await reader.ReadAsync(buffer);
                }

                // The quietest of three windows: an allocation per read shows in every one, a
                // one-off of the runtime on this thread in one at most (see AllocationWindows).
                long quietest = long.MaxValue;
                for (int window = 0; window < 3; window++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < Reads; i++)
                    {
                        loop.Post(writeOne);
                        ValueTask<int> pending = reader.ReadAsync(buffer);
                        waited += pending.IsCompleted ? 0 : 1;
                        await pending;
                    }

                    quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
                }

                return quietest;
            });

            Assert.Equal(3 * Reads, waited);
            Assert.True(allocated < 1024, $"{allocated} bytes for {Reads} waiting reads");
        }
    }
}
