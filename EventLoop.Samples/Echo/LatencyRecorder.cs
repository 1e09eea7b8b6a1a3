using System.Diagnostics;

namespace EventLoop.Samples.Echo;

/// <summary>
/// Collects per-request latencies into a buffer sized up front, so recording allocates nothing
/// while the benchmark runs. Loop-thread only.
/// </summary>
public sealed class LatencyRecorder
{
    private readonly long[] _ticks;
    private int _count;

    /// <summary>Creates a recorder for at most <paramref name="capacity"/> samples.</summary>
    /// <param name="capacity">Most samples kept; later ones are dropped.</param>
    public LatencyRecorder(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ticks = new long[capacity];
    }

    /// <summary>Samples recorded so far.</summary>
    public int Count => _count;

    /// <summary>Records one latency in <see cref="Stopwatch"/> ticks.</summary>
    /// <param name="stopwatchTicks">The elapsed <see cref="Stopwatch.GetTimestamp"/> difference.</param>
    public void Record(long stopwatchTicks)
    {
        if (_count < _ticks.Length)
        {
            _ticks[_count++] = stopwatchTicks;
        }
    }

    /// <summary>Records one latency.</summary>
    /// <param name="latency">The latency.</param>
    public void Record(TimeSpan latency) => Record((long)(latency.Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond)));

    /// <summary>The nearest-rank percentiles of what was recorded; zero when nothing was.</summary>
    /// <param name="percentiles">Percentiles in (0, 100].</param>
    /// <returns>One latency per requested percentile, in order.</returns>
    public TimeSpan[] Percentiles(params double[] percentiles)
    {
        ArgumentNullException.ThrowIfNull(percentiles);
        long[] sorted = _ticks[.._count];
        Array.Sort(sorted);
        var result = new TimeSpan[percentiles.Length];
        for (int i = 0; i < percentiles.Length; i++)
        {
            result[i] = sorted.Length == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, NearestRank(sorted, percentiles[i]));
        }

        return result;
    }

    /// <summary>
    /// The nearest-rank percentile of sorted samples: the smallest sample that at least
    /// <paramref name="percentile"/>% of all samples are less than or equal to.
    /// </summary>
    /// <param name="sorted">Samples in ascending order; not empty.</param>
    /// <param name="percentile">In (0, 100].</param>
    /// <returns>The sample at that rank.</returns>
    /// <exception cref="ArgumentException"><paramref name="sorted"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is outside (0, 100].</exception>
    public static long NearestRank(ReadOnlySpan<long> sorted, double percentile)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("No samples.", nameof(sorted));
        }

        if (!(percentile > 0 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile is in (0, 100].");
        }

        int rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
