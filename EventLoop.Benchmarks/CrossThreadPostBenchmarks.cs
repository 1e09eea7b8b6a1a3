using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>Post from another thread while the loop runs on its own thread (inbox + wake-up).</summary>
[MemoryDiagnoser]
public class CrossThreadPostBenchmarks
{
    private const int Ops = 10_000;

    private Loop _loop = null!;
    private Thread _runner = null!;
    private int _done;
    private readonly ManualResetEventSlim _finished = new();
    private Action _count = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop();
        _count = Count;
        _runner = new Thread(() => _loop.Run()) { IsBackground = true };
        _runner.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Stop();
        _runner.Join();
        _loop.Dispose();
    }

    /// <summary>Post from the benchmark thread; the last callback signals completion.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void PostFromOtherThread()
    {
        _done = 0;
        _finished.Reset();
        for (int i = 0; i < Ops; i++)
        {
            _loop.Post(_count);
        }

        _finished.Wait();
    }

    private void Count()
    {
        if (++_done == Ops)
        {
            _finished.Set();
        }
    }
}
