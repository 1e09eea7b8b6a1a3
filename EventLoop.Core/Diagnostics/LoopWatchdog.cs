using System.Diagnostics;

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
    private readonly Loop _loop;
    private readonly long _thresholdTicks; // Stopwatch ticks
    private readonly int _periodMs;
    private readonly Action<BlockedLoopInfo>? _handler;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    public LoopWatchdog(Loop loop, TimeSpan threshold, Action<BlockedLoopInfo>? handler)
    {
        _loop = loop;
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
        long seen = 0;
        long since = 0;
        BlockedLoopInfo? reported = null;
        while (!_stop.Wait(_periodMs))
        {
            long sequence = _loop.HeldSequence;
            long now = Stopwatch.GetTimestamp();
            if (sequence != seen)
            {
                if (reported is not null)
                {
                    Report(reported with { Duration = Stopwatch.GetElapsedTime(since, now), Released = true });
                    reported = null;
                }

                seen = sequence;
                since = now;
            }
            else if (sequence != 0 && reported is null && now - since >= _thresholdTicks)
            {
                (Greenlet? greenlet, object? callback) = _loop.HeldBy;
                reported = new BlockedLoopInfo(_loop, greenlet, Loop.DescribeHeld(greenlet, callback), Stopwatch.GetElapsedTime(since, now), false);
                Report(reported);
            }
        }

        if (reported is not null)
        {
            Report(reported with { Duration = Stopwatch.GetElapsedTime(since), Released = true });
        }
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
