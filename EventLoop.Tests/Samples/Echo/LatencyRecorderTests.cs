using System.Diagnostics;
using EventLoop.Samples.Echo;

namespace EventLoop.Tests.Samples.Echo;

public sealed class LatencyRecorderTests
{
    [Theory]
    [InlineData(50, 50)]
    [InlineData(99, 99)]
    [InlineData(100, 100)]
    [InlineData(1, 1)]
    [InlineData(0.5, 1)]
    public void NearestRank_OneToHundred_IsTheRankItself(double percentile, long expected)
    {
        long[] samples = Enumerable.Range(1, 100).Select(i => (long)i).ToArray();

        Assert.Equal(expected, LatencyRecorder.NearestRank(samples, percentile));
    }

    [Fact]
    public void NearestRank_SmallSample_RoundsRankUp()
    {
        long[] samples = [10, 20, 30, 40];

        Assert.Equal(20, LatencyRecorder.NearestRank(samples, 50));
        Assert.Equal(40, LatencyRecorder.NearestRank(samples, 99));
        Assert.Equal(10, LatencyRecorder.NearestRank(samples, 25));
        Assert.Equal(30, LatencyRecorder.NearestRank(samples, 50.1));
    }

    [Fact]
    public void NearestRank_SingleSample_IsThatSample()
    {
        Assert.Equal(7, LatencyRecorder.NearestRank([7L], 50));
        Assert.Equal(7, LatencyRecorder.NearestRank([7L], 99));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100.5)]
    [InlineData(double.NaN)]
    public void NearestRank_PercentileOutOfRange_Throws(double percentile)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyRecorder.NearestRank([1L, 2L], percentile));
    }

    [Fact]
    public void NearestRank_Empty_Throws()
    {
        Assert.Throws<ArgumentException>(() => LatencyRecorder.NearestRank([], 50));
    }

    [Fact]
    public void Percentiles_UnsortedRecords_AreSortedFirst()
    {
        var recorder = new LatencyRecorder(10);
        foreach (int ms in new[] { 9, 1, 5, 3, 7, 2, 8, 4, 6, 10 })
        {
            recorder.Record(TimeSpan.FromMilliseconds(ms));
        }

        TimeSpan[] p = recorder.Percentiles(50, 99);

        Assert.Equal(5, p[0].TotalMilliseconds, 3);
        Assert.Equal(10, p[1].TotalMilliseconds, 3);
    }

    [Fact]
    public void Percentiles_NothingRecorded_AreZero()
    {
        var recorder = new LatencyRecorder(4);

        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero], recorder.Percentiles(50, 99));
    }

    [Fact]
    public void Record_BeyondCapacity_IsDropped()
    {
        var recorder = new LatencyRecorder(2);
        recorder.Record(1);
        recorder.Record(2);
        recorder.Record(Stopwatch.Frequency);

        Assert.Equal(2, recorder.Count);
        Assert.True(recorder.Percentiles(100)[0] < TimeSpan.FromSeconds(1));
    }
}
