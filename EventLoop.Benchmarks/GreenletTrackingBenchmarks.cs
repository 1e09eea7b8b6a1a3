using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// What <see cref="LoopOptions.TrackGreenletsAcrossThreads"/> costs: a greenlet's step with and
/// without the greenlet in its body's <c>ExecutionContext</c> (the runtime switches contexts around
/// every step of a body whose context is not the default one), and a spawn with and without that
/// context to create.
/// Run: <c>dotnet run -c Release --project EventLoop.Benchmarks -- --filter *GreenletTrackingBenchmarks* --memory</c>.
/// </summary>
[MemoryDiagnoser]
public class GreenletTrackingBenchmarks
{
    private const int Ops = 10_000;

    private Loop _loop = null!;
    private Greenlet[] _greenlets = null!;

    /// <summary>The option under measurement.</summary>
    [Params(true, false)]
    public bool Tracked { get; set; }

    /// <summary>A loop with the option as given.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop(new LoopOptions { TrackGreenletsAcrossThreads = Tracked });
        _greenlets = new Greenlet[Ops];
    }

    /// <summary>Disposes the loop.</summary>
    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>A greenlet resumes after Yield: one step each.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void YieldResume() => _loop.Run(async () =>
    {
        for (int i = 0; i < Ops; i++)
        {
            await _loop.Yield();
        }
    });

    /// <summary>Spawn a no-op greenlet and join it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SpawnAndJoin() => LoopWorkloads.SpawnAndJoin(_loop, _greenlets);
}
