using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EventLoop;

/// <summary>
/// The blocked-loop monitor of one loop (<see cref="LoopOptions.BlockedLoopThreshold"/>): a
/// background thread that samples the loop's progress. The loop thread's share is two stores per
/// iteration (a flag raised while the ready phase runs) and nothing per callback: the monitor
/// reads the callback and iteration counters the loop keeps anyway, and, once the same non-zero
/// reading (<see cref="Loop.HeldSequence"/>) has lasted longer than the threshold, the item that
/// holds the loop, which stays in its run-queue slot while it runs. It reports the hold while it
/// lasts, then once more when the reading changes.
/// </summary>
internal sealed class LoopWatchdog : IDisposable
{
    // Weak: a loop dropped without Dispose is collected, and its monitor thread then ends.
    private readonly WeakReference<Loop> _loop;
    private readonly long _thresholdTicks; // Stopwatch ticks
    private readonly int _periodMs;
    private readonly Action<BlockedLoopInfo>? _handler;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    // The monitor thread's state between looks.
    private long _seen;
    private long _since;
    private BlockedLoopInfo? _reported;

    public LoopWatchdog(Loop loop, TimeSpan threshold, Action<BlockedLoopInfo>? handler)
    {
        _loop = new WeakReference<Loop>(loop);
        _handler = handler;
        _thresholdTicks = (long)(threshold.TotalSeconds * Stopwatch.Frequency);

        // Sample five times per threshold, at most every 50 ms: a report comes within threshold + 50 ms.
        _periodMs = (int)Math.Clamp(threshold.TotalMilliseconds / 5, 1, 50);
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = $"EventLoop watchdog {loop.Name}",
        };
        _thread.Start();
    }

    /// <summary>Sampling period, the accuracy of reported durations.</summary>
    public TimeSpan Period => TimeSpan.FromMilliseconds(_periodMs);

    /// <summary>
    /// Stops the monitor thread, which first reports the release of a hold it reported (the hold
    /// that ended just before the loop was disposed); waits for it briefly. Idempotent.
    /// </summary>
    public void Dispose()
    {
        _stop.Set();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(1));
        }
    }

    private void Run()
    {
        while (!_stop.Wait(_periodMs))
        {
            if (!Look())
            {
                return; // the loop was collected without Dispose: nothing is left to watch
            }
        }

        if (_reported is not null)
        {
            Report(_reported with { Duration = Stopwatch.GetElapsedTime(_since), Released = true });
        }
    }

    /// <summary>One look at the loop; false once it is gone. The loop is referenced only while a look lasts.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Look()
    {
        if (!_loop.TryGetTarget(out Loop? loop))
        {
            return false;
        }

        long sequence = loop.HeldSequence;
        long now = Stopwatch.GetTimestamp();
        if (sequence != _seen)
        {
            if (_reported is not null)
            {
                Report(_reported with { Duration = Stopwatch.GetElapsedTime(_since, now), Released = true });
                _reported = null;
            }

            _seen = sequence;
            _since = now;
        }
        else if (sequence != 0 && _reported is null && now - _since >= _thresholdTicks)
        {
            (Greenlet? greenlet, object? callback) = loop.HeldBy;
            _reported = new BlockedLoopInfo(loop, greenlet, Loop.DescribeHeld(greenlet, callback), Stopwatch.GetElapsedTime(_since, now), false);
            Report(_reported);
        }

        return true;
    }

    private void Report(BlockedLoopInfo info)
    {
        try
        {
            if (_handler is null)
            {
                Console.Error.WriteLine(info.ToString());
            }
            else
            {
                _handler(info);
            }
        }
        catch (Exception ex)
        {
            // The monitor must outlive a faulty handler; the loop itself may be the one blocked.
            try
            {
                Console.Error.WriteLine($"EventLoop: the BlockedLoop handler threw: {ex}");
            }
            catch (IOException)
            {
            }
        }
    }
}
