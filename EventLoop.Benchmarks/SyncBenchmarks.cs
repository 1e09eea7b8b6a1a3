using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// Coordination primitives on a warm loop. Each invocation runs <see cref="Ops"/> operations inside
/// one Loop.Run, so the per-invocation setup (the main greenlet, a worker) is spread over them.
/// </summary>
[MemoryDiagnoser]
public class SyncBenchmarks
{
    private const int Ops = 100_000;
    private static readonly Task<int> s_zero = Task.FromResult(0);

    private Loop _loop = null!;
    private LoopQueue<int> _queue = null!;
    private LoopEvent _ping = null!;
    private LoopEvent _pong = null!;
    private LoopSemaphore _semaphore = null!;
    private GreenletPool _pool = null!;
    private int[] _items = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop();
        _queue = new LoopQueue<int>(_loop, capacity: 1);
        _ping = new LoopEvent(_loop);
        _pong = new LoopEvent(_loop);
        _semaphore = new LoopSemaphore(_loop, 1);
        _pool = new GreenletPool(_loop, 100);
        _items = new int[Ops];
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>One item from a producer greenlet to a consumer through a queue of capacity 1.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void QueueHandOff() => _loop.Run(async () =>
    {
        Greenlet producer = _loop.Spawn(async () =>
        {
            for (int i = 0; i < Ops; i++)
            {
                await _queue.PutAsync(i);
            }
        });
        for (int i = 0; i < Ops; i++)
        {
            await _queue.GetAsync();
        }

        await producer;
    });

    /// <summary>Event set/wait ping-pong between two greenlets (one round trip per operation).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void EventSetWait() => _loop.Run(async () =>
    {
        Greenlet responder = _loop.Spawn(async () =>
        {
            for (int i = 0; i < Ops; i++)
            {
                await _ping.WaitAsync();
                _ping.Clear();
                _pong.Set();
            }
        });
        for (int i = 0; i < Ops; i++)
        {
            _ping.Set();
            await _pong.WaitAsync();
            _pong.Clear();
        }

        await responder;
    });

    /// <summary>Semaphore acquire/release, contended by two greenlets (a hand-over on every release).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SemaphoreAcquireRelease() => _loop.Run(async () =>
    {
        async Task Worker()
        {
            for (int i = 0; i < Ops / 2; i++)
            {
                using (await _semaphore.AcquireAsync())
                {
                    await _loop.Yield();
                }
            }
        }

        Greenlet other = _loop.Spawn(Worker);
        await Worker();
        await other;
    });

    /// <summary>Semaphore acquire/release without contention (the synchronous path).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SemaphoreUncontended() => _loop.Run(async () =>
    {
        for (int i = 0; i < Ops; i++)
        {
            using (await _semaphore.AcquireAsync())
            {
            }
        }
    });

    /// <summary>GreenletPool.MapAsync over 100,000 no-op items (per item).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int[] PoolMap() => _loop.Run(() => _pool.MapAsync(_items, static _ => s_zero));
}
