using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// One cross-loop round trip: a greenlet on one loop awaits <see cref="Loop.InvokeAsync{T}(Func{Task{T}})"/>
/// of a trivial body on another loop (both on their own threads, a <see cref="LoopGroup"/>).
/// Allocation is process-wide, so it includes the remote greenlet.
/// </summary>
[MemoryDiagnoser]
public class CrossLoopInvokeBenchmarks
{
    private const int Ops = 10_000;
    private static readonly Func<Task<int>> s_body = static () => Task.FromResult(1);

    private LoopGroup _group = null!;
    private Func<Task<int>> _batch = null!;
    private Func<Task<int>> _sameLoopBatch = null!;
    private Func<Task<int>> _pipelinedBatch = null!;

    /// <summary><see cref="LoopOptions.SpinBeforePoll"/> of both loops, in microseconds (0: they sleep in the poll).</summary>
    [Params(0, 50)]
    public int SpinMicroseconds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _group = new LoopGroup(2, new LoopGroupOptions
        {
            Name = "bench",
            Loop = new LoopOptions { SpinBeforePoll = TimeSpan.FromMicroseconds(SpinMicroseconds) },
        });
        _batch = () => RunBatchAsync(_group[1]);
        _sameLoopBatch = () => RunBatchAsync(_group[0]);
        _pipelinedBatch = () => RunPipelinedAsync(_group[1]);
    }

    [GlobalCleanup]
    public void Cleanup() => _group.Dispose();

    /// <summary>Sequential round trips from a greenlet on loop 0 to loop 1 and back.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int CrossLoopRoundTrip() => _group[0].InvokeAsync(_batch).GetAwaiter().GetResult();

    /// <summary>The same on one loop (the greenlet and the hop, without the other thread's wake-up).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int SameLoopRoundTrip() => _group[0].InvokeAsync(_sameLoopBatch).GetAwaiter().GetResult();

    /// <summary>64 calls in flight at a time from loop 0 to loop 1: the per-call cost once wake-ups are shared.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int CrossLoopPipelined64() => _group[0].InvokeAsync(_pipelinedBatch).GetAwaiter().GetResult();

    private static async Task<int> RunPipelinedAsync(Loop target)
    {
        const int Window = 64;
        var inFlight = new Task<int>[Window];
        int sum = 0;
        for (int i = 0; i < Ops; i += Window)
        {
            for (int j = 0; j < Window; j++)
            {
                inFlight[j] = target.InvokeAsync(s_body);
            }

            for (int j = 0; j < Window; j++)
            {
                sum += await inFlight[j];
            }
        }

        return sum;
    }

    private static async Task<int> RunBatchAsync(Loop target)
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            sum += await target.InvokeAsync(s_body);
        }

        return sum;
    }
}
