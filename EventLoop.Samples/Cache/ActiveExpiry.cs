namespace EventLoop.Samples.Cache;

/// <summary>
/// Reclaims keys whose time to live has passed although nobody reads them: Redis 7's
/// <c>activeExpireCycle</c>, bounded by time rather than by a key count. Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// A <em>slow</em> cycle runs from the server's 100 ms cron (Redis's <c>hz 10</c>) and may take 25%
/// of that interval (<c>ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC</c>): it samples 20 keys that have an
/// expiry, deletes the expired ones, and repeats while more than 10% of a sample had expired, reading
/// the clock every 16 samples. A <em>fast</em> cycle runs before the loop polls (Redis's
/// <c>beforeSleep</c>) for at most 1 ms, and not again within 2 ms of the previous one's start; it is
/// skipped outright (no clock read) unless the last cycle ran out of time or the estimated share of
/// expired keys is above 10%, so a keyspace without expiring keys costs one field test per poll.
/// </para>
/// <para>
/// Bounding by time lets the cycle keep up with any write rate the loop can sustain: a key count per
/// tick caps reclamation at that count times the tick rate, and keys written faster than that pile
/// up. The stale estimate is Redis's moving average (5% new sample, 95% history).
/// </para>
/// </remarks>
public sealed class ActiveExpiry
{
    // Redis 7: ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC, ACTIVE_EXPIRE_CYCLE_FAST_DURATION (µs).
    private const int SlowTimePercent = 25;
    private const long FastDurationMicroseconds = 1000;

    // Samples between clock reads: Redis checks the time every 16 iterations.
    private const int SamplesPerClockRead = 16;

    private readonly CacheStore _store;
    private readonly TimeProvider _budgetClock;
    private readonly long _slowBudgetTicks;
    private readonly long _fastBudgetTicks;
    private long _lastFastStart = long.MinValue / 2;
    private bool _lastHitTimeLimit;

    /// <summary>Creates the cycle for <paramref name="store"/>.</summary>
    /// <param name="store">The keyspace.</param>
    /// <param name="cronInterval">How often <see cref="RunSlowCycle"/> is called; a slow cycle may take 25% of it.</param>
    /// <param name="budgetClock">Measures the time spent (real elapsed time); <see cref="TimeProvider.System"/> when null. Expiry itself follows the store's clock.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cronInterval"/> is not positive.</exception>
    public ActiveExpiry(CacheStore store, TimeSpan cronInterval, TimeProvider? budgetClock = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cronInterval, TimeSpan.Zero);
        _store = store;
        _budgetClock = budgetClock ?? TimeProvider.System;
        double frequency = _budgetClock.TimestampFrequency;
        _slowBudgetTicks = Math.Max(1, (long)(cronInterval.TotalSeconds * frequency * SlowTimePercent / 100));
        _fastBudgetTicks = Math.Max(1, (long)(FastDurationMicroseconds * frequency / 1_000_000));
    }

    /// <summary>Keys deleted by the cycles so far.</summary>
    public long Expired { get; private set; }

    /// <summary>Cycles (slow and fast) that ran so far.</summary>
    public long Cycles { get; private set; }

    /// <summary>Estimated share of expired keys among those with an expiry, 0 to 1 (Redis's <c>expired_stale_perc</c>).</summary>
    public double StaleEstimate { get; private set; }

    /// <summary>True when the last cycle stopped because its time ran out rather than because few sampled keys were expired.</summary>
    public bool LastCycleHitTimeLimit => _lastHitTimeLimit;

    /// <summary>The cron's cycle: up to 25% of the cron interval.</summary>
    /// <returns>Keys deleted.</returns>
    public int RunSlowCycle() => RunCycle(_budgetClock.GetTimestamp(), _slowBudgetTicks);

    /// <summary>
    /// The before-poll cycle: at most 1 ms, only when the last cycle ran out of time or more than 10%
    /// of the keys with an expiry are estimated to be expired, and not within 2 ms of the previous
    /// fast cycle's start.
    /// </summary>
    /// <returns>Keys deleted (0 when skipped).</returns>
    public int RunFastCycle()
    {
        if (!_lastHitTimeLimit && StaleEstimate * 100 < CacheStore.AcceptableStalePercent)
        {
            return 0;
        }

        long start = _budgetClock.GetTimestamp();
        if (start - _lastFastStart < _fastBudgetTicks * 2)
        {
            return 0;
        }

        _lastFastStart = start;
        return RunCycle(start, _fastBudgetTicks);
    }

    private int RunCycle(long start, long budgetTicks)
    {
        Cycles++;
        long now = _store.NowMs;
        int totalSampled = 0;
        int totalExpired = 0;
        bool hitTimeLimit = false;
        int iteration = 0;
        while (_store.VolatileCount > 0)
        {
            int expired = _store.SampleExpired(CacheStore.KeysPerSample, now, out int sampled, out bool scannedAll);
            totalSampled += sampled;
            totalExpired += expired;
            if (scannedAll || expired * 100 <= sampled * CacheStore.AcceptableStalePercent)
            {
                break;
            }

            if (++iteration % SamplesPerClockRead == 0 && _budgetClock.GetTimestamp() - start >= budgetTicks)
            {
                hitTimeLimit = true;
                break;
            }
        }

        _lastHitTimeLimit = hitTimeLimit;
        if (totalSampled > 0)
        {
            StaleEstimate = (StaleEstimate * 0.95) + ((double)totalExpired / totalSampled * 0.05);
        }
        else
        {
            StaleEstimate *= 0.95;
        }

        Expired += totalExpired;
        return totalExpired;
    }
}
