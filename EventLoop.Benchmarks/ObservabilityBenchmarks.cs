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
    private static readonly Action s_noop = static () => { };
    private static readonly Func<Task> s_sleepOneMs = static async () => await Loop.Current!.Sleep(TimeSpan.FromMilliseconds(1));

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
    public void PostAndRun()
    {
        for (int i = 0; i < Ops; i++)
        {
            _loop.Post(s_noop);
        }

        _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>Spawn a no-op greenlet and join it (JoinAll over the whole batch).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SpawnAndJoin()
    {
        for (int i = 0; i < Ops; i++)
        {
            _greenlets[i] = _loop.Spawn(static () => Task.CompletedTask);
        }

        _loop.JoinAll(_greenlets);
    }

    /// <summary>A greenlet resumes after Sleep(0): one loop iteration per resume.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepZeroResume() => _loop.Run(async () =>
    {
        for (int i = 0; i < Ops; i++)
        {
            await _loop.Sleep(TimeSpan.Zero);
        }
    });

    /// <summary>10,000 greenlets each sleep 1 ms once and are joined.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SleepTimerResume()
    {
        for (int i = 0; i < Ops; i++)
        {
            _greenlets[i] = _loop.Spawn(s_sleepOneMs);
        }

        _loop.JoinAll(_greenlets);
    }
}
