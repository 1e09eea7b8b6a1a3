using EventLoop.Polling;

namespace EventLoop.Tests.Polling;

/// <summary>The behaviour both wakers share; see <see cref="EventFdWakerTests"/> and <see cref="PipeWakerTests"/>.</summary>
public abstract class WakerContractTests : IDisposable
{
    private const int LivenessMs = 5000;

    protected WakerContractTests()
    {
        Waker = CreateWaker();
    }

    internal IWaker Waker { get; }

    public void Dispose()
    {
        Waker.Dispose();
        GC.SuppressFinalize(this);
    }

    // private protected: IWaker is internal to the assembly under test.
    private protected abstract IWaker CreateWaker();

    [Fact]
    public void Fd_Fresh_NotReadable()
    {
        Assert.False(TestFds.IsReadable(Waker.Fd, 0));
    }

    [Fact]
    public void Wake_FromAnotherThread_MakesFdReadable()
    {
        var thread = new Thread(Waker.Wake);
        thread.Start();

        Assert.True(TestFds.IsReadable(Waker.Fd, LivenessMs));
        thread.Join();
    }

    [Fact]
    public void Drain_AfterWake_FdNoLongerReadable()
    {
        Waker.Wake();
        Assert.True(TestFds.IsReadable(Waker.Fd, LivenessMs));

        Waker.Drain();

        Assert.False(TestFds.IsReadable(Waker.Fd, 0));
    }

    [Fact]
    public void Drain_NothingPending_DoesNotBlock()
    {
        Waker.Drain();

        Assert.False(TestFds.IsReadable(Waker.Fd, 0));
    }

    [Fact]
    public void Wake_ManyTimesBeyondPipeCapacity_CoalescesIntoOneDrain()
    {
        // 70 000 > the default 64 KiB pipe buffer, so the full-buffer path runs too.
        for (int i = 0; i < 70_000; i++)
        {
            Waker.Wake();
        }

        Assert.True(TestFds.IsReadable(Waker.Fd, 0));
        Waker.Drain();
        Assert.False(TestFds.IsReadable(Waker.Fd, 0));

        Waker.Wake();
        Assert.True(TestFds.IsReadable(Waker.Fd, 0));
    }

    [Fact]
    public void Wake_ConcurrentFromSeveralThreads_DoesNotThrowAndWakes()
    {
        var threads = Enumerable.Range(0, 4)
            .Select(_ => new Thread(() =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    Waker.Wake();
                }
            }))
            .ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.True(TestFds.IsReadable(Waker.Fd, 0));
    }

    [Fact]
    public void Wake_AfterDispose_IsIgnored()
    {
        IWaker waker = CreateWaker();
        waker.Dispose();

        waker.Wake();
        waker.Drain();
        waker.Dispose();
    }

    [Fact]
    public void Dispose_WhileOtherThreadsWake_DoesNotThrow()
    {
        IWaker waker = CreateWaker();
        using var started = new CountdownEvent(2);
        Exception? failure = null;
        var threads = Enumerable.Range(0, 2)
            .Select(_ => new Thread(() =>
            {
                started.Signal();
                try
                {
                    for (int i = 0; i < 20_000; i++)
                    {
                        waker.Wake();
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            }))
            .ToList();
        threads.ForEach(t => t.Start());
        started.Wait();

        waker.Dispose();
        threads.ForEach(t => t.Join());

        Assert.Null(failure);
    }
}

public sealed class EventFdWakerTests : WakerContractTests
{
    private protected override IWaker CreateWaker() => new EventFdWaker();
}

public sealed class PipeWakerTests : WakerContractTests
{
    private protected override IWaker CreateWaker() => new PipeWaker();
}
