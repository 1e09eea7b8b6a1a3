using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// The loop's hot paths on a warm loop. Each invocation performs <see cref="Ops"/> operations, so
/// BenchmarkDotNet reports the cost of one operation (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class CoreBenchmarks
{
    private const int Ops = 10_000;
    private static readonly Action s_noop = static () => { };

    private Loop _loop = null!;
    private Greenlet[] _greenlets = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop();
        _greenlets = new Greenlet[Ops];
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>Post a callback on the loop thread and run it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void PostAndRun() => LoopWorkloads.PostAndRun(_loop, Ops);

    /// <summary>Schedule a zero-delay timer and let it fire.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void CallLaterAndFire()
    {
        for (int i = 0; i < Ops; i++)
        {
            _loop.CallLater(TimeSpan.Zero, s_noop);
        }

        _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>Schedule a timer and cancel it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void CallLaterAndCancel()
    {
        for (int i = 0; i < Ops; i++)
        {
            _loop.CallLater(TimeSpan.FromSeconds(10), s_noop).Cancel();
        }
    }

    /// <summary>Spawn a no-op greenlet and join it (JoinAll over the whole batch).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SpawnAndJoin() => LoopWorkloads.SpawnAndJoin(_loop, _greenlets);

    /// <summary>A greenlet resumes after Sleep(0).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepZeroResume() => LoopWorkloads.SleepZeroResume(_loop, Ops);

    /// <summary>A greenlet resumes after Yield.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void YieldResume() => _loop.Run(async () =>
    {
        for (int i = 0; i < Ops; i++)
        {
            await _loop.Yield();
        }
    });

    /// <summary>
    /// Timer-backed sleep: <see cref="Ops"/> greenlets each sleep 1 ms once and are joined, so one
    /// poll wait is shared by the whole batch and the figure is the per-sleep overhead.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepTimerResume() => LoopWorkloads.SleepTimerResume(_loop, _greenlets);
}
