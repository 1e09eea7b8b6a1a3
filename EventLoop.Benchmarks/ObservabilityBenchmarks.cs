using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace EventLoop.Benchmarks;

/// <summary>
/// The loop's hot paths with observability off, with a MeterListener on every instrument of the
/// EventLoop meter, and with the blocked-loop watchdog on: what measuring costs the loop thread.
/// </summary>
[MemoryDiagnoser]
public class ObservabilityBenchmarks
{
    private const int Ops = 10_000;

    private Loop _loop = null!;
    private Greenlet[] _greenlets = null!;
    private MeterListener? _listener;
    private long _measurements;

    /// <summary>Off: nothing listens, no watchdog. Listener: a MeterListener on every EventLoop instrument. Watchdog: BlockedLoopThreshold = 100 ms.</summary>
    [Params("Off", "Listener", "Watchdog")]
    public string Mode { get; set; } = "Off";

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop(new LoopOptions
        {
            BlockedLoopThreshold = Mode == "Watchdog" ? TimeSpan.FromMilliseconds(100) : null,
        });
        _greenlets = new Greenlet[Ops];
        if (Mode == "Listener")
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == LoopMetrics.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _listener.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _loop.Dispose();
    }

    /// <summary>Post a callback on the loop thread and run it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void PostAndRun() => LoopWorkloads.PostAndRun(_loop, Ops);

    /// <summary>Spawn a no-op greenlet and join it (JoinAll over the whole batch).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SpawnAndJoin() => LoopWorkloads.SpawnAndJoin(_loop, _greenlets);

    /// <summary>A greenlet resumes after Sleep(0): one loop iteration per resume.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepZeroResume() => LoopWorkloads.SleepZeroResume(_loop, Ops);

    /// <summary>10,000 greenlets each sleep 1 ms once and are joined.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepTimerResume() => LoopWorkloads.SleepTimerResume(_loop, _greenlets);
}
