using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

/// <summary>The time-bounded expiry cycles, on a fake keyspace clock and a budget clock that moves only when told.</summary>
public sealed class ActiveExpiryTests
{
    private static readonly TimeSpan s_cron = TimeSpan.FromMilliseconds(100);

    private readonly CacheHarness _cache = new();
    private readonly SteppingClock _budget = new();

    private ActiveExpiry NewExpiry() => new(_cache.Store, s_cron, _budget);

    private void AddKeys(string prefix, int count, int ttlMs)
    {
        string ttl = ttlMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < count; i++)
        {
            _cache.Run("SET", prefix + i, "v", "PX", ttl);
        }
    }

    [Fact]
    public void RunSlowCycle_AllExpiredWithinBudget_DeletesEveryOne()
    {
        AddKeys("k", 5000, 100);
        _cache.Run("SET", "plain", "v");
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();

        int deleted = expiry.RunSlowCycle();

        // A count-bounded cycle (200 keys per tick) would leave 4,800 behind.
        Assert.Equal(5000, deleted);
        Assert.Equal(1, _cache.Store.Count);
        Assert.False(expiry.LastCycleHitTimeLimit);
        Assert.Equal(5000, expiry.Expired);
    }

    [Fact]
    public void RunSlowCycle_BudgetSpent_StopsAndReportsTheTimeLimit()
    {
        AddKeys("k", 50_000, 100);
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();

        // Every clock read moves 5 ms: the 25 ms budget (25% of 100 ms) is spent after five reads.
        _budget.Step = TimeSpan.FromMilliseconds(5);
        int deleted = expiry.RunSlowCycle();

        Assert.True(expiry.LastCycleHitTimeLimit);
        Assert.InRange(deleted, 1, 6 * 16 * 20);
        Assert.Equal(50_000 - deleted, _cache.Store.Count);
    }

    [Fact]
    public void RunSlowCycle_FewExpired_StopsAfterOneSample()
    {
        AddKeys("live", 10_000, 100_000);
        AddKeys("dead", 100, 100);
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();

        int deleted = expiry.RunSlowCycle();

        // 1% expired: a sample of 20 finds at most a couple, under the 10% that would repeat it.
        Assert.InRange(deleted, 0, 20);
        Assert.False(expiry.LastCycleHitTimeLimit);
    }

    [Fact]
    public void RunFastCycle_NothingStale_SkippedWithoutReadingTheClock()
    {
        AddKeys("live", 1000, 100_000);
        ActiveExpiry expiry = NewExpiry();
        expiry.RunSlowCycle();
        int reads = _budget.Reads;

        Assert.Equal(0, expiry.RunFastCycle());
        Assert.Equal(reads, _budget.Reads);
    }

    [Fact]
    public void RunFastCycle_AfterASlowCycleRanOutOfTime_ContinuesTheWork()
    {
        AddKeys("k", 50_000, 100);
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();
        _budget.Step = TimeSpan.FromMilliseconds(5);
        int slow = expiry.RunSlowCycle();
        Assert.True(expiry.LastCycleHitTimeLimit);

        _budget.Step = TimeSpan.Zero;
        int fast = expiry.RunFastCycle();

        Assert.True(fast > 0);
        Assert.Equal(50_000 - slow - fast, _cache.Store.Count);
    }

    [Fact]
    public void RunFastCycle_WithinTwiceItsDurationOfTheLast_Skipped()
    {
        AddKeys("k", 50_000, 100);
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();
        _budget.Step = TimeSpan.FromMilliseconds(5);
        expiry.RunSlowCycle();

        // Each read moves 0.5 ms: the fast cycle's 1 ms budget ends it after a few reads.
        _budget.Step = TimeSpan.FromMilliseconds(0.5);
        Assert.True(expiry.RunFastCycle() > 0);
        Assert.True(expiry.LastCycleHitTimeLimit);
        Assert.Equal(0, expiry.RunFastCycle());

        _budget.Advance(TimeSpan.FromMilliseconds(2));
        Assert.True(expiry.RunFastCycle() > 0);
        Assert.Equal(3, expiry.Cycles);
    }

    [Fact]
    public void StaleEstimate_FollowsTheExpiredShareOfSamples()
    {
        AddKeys("k", 1000, 100);
        _cache.Time.Advance(TimeSpan.FromMilliseconds(101));
        ActiveExpiry expiry = NewExpiry();

        expiry.RunSlowCycle();

        // Every sampled key was expired: Redis's moving average moves 5% of the way to 100%.
        Assert.Equal(0.05, expiry.StaleEstimate, 3);
    }

    /// <summary>A clock that moves by <see cref="Step"/> on every read, and by <see cref="Advance"/>.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public TimeSpan Step { get; set; }

        public int Reads { get; private set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;

        public override long GetTimestamp()
        {
            Reads++;
            _ticks += Step.Ticks;
            return _ticks;
        }
    }
}
