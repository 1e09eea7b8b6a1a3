using EventLoop.Samples.Echo;

namespace EventLoop.Tests.Samples.Echo;

public sealed class ConnectionPlanTests
{
    [Theory]
    [InlineData(20_000, 500)]
    [InlineData(20_000, 20_000)]
    [InlineData(10, 3)]
    [InlineData(7, 10)]
    [InlineData(0, 4)]
    [InlineData(1, 1)]
    public void Share_AllConnections_CoverEveryRequestOnceContiguously(int requests, int connections)
    {
        int next = 0;
        int min = int.MaxValue;
        int max = 0;
        for (int c = 0; c < connections; c++)
        {
            (int first, int count) = ConnectionPlan.Share(requests, connections, c);
            Assert.Equal(next, first);
            next += count;
            min = Math.Min(min, count);
            max = Math.Max(max, count);
        }

        Assert.Equal(requests, next);
        Assert.True(max - min <= 1, $"shares differ by {max - min}");
    }

    [Fact]
    public void Share_Remainder_GoesToTheFirstConnections()
    {
        Assert.Equal((0, 4), ConnectionPlan.Share(10, 3, 0));
        Assert.Equal((4, 3), ConnectionPlan.Share(10, 3, 1));
        Assert.Equal((7, 3), ConnectionPlan.Share(10, 3, 2));
    }

    [Theory]
    [InlineData(10, 0, 0)]
    [InlineData(10, 3, 3)]
    [InlineData(10, 3, -1)]
    [InlineData(-1, 3, 0)]
    public void Share_BadArguments_Throw(int requests, int connections, int connection)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectionPlan.Share(requests, connections, connection));
    }

    [Theory]
    [InlineData(20_000, 1024UL, 1, 960)]
    [InlineData(20_000, 1_048_576UL, 1, 20_000)]
    [InlineData(20_000, 1024UL, 2, 480)]
    [InlineData(100, 1024UL, 1, 100)]
    [InlineData(20_000, 10UL, 1, 1)]
    [InlineData(0, 1024UL, 1, 1)]
    public void DefaultConnections_LeavesHeadroomAndCapsAtRequests(int requests, ulong limit, int perConnection, int expected)
    {
        Assert.Equal(expected, ConnectionPlan.DefaultConnections(requests, limit, perConnection));
    }

    [Fact]
    public void DefaultConnections_UnknownLimit_AssumesTheTraditional1024()
    {
        Assert.Equal(960, ConnectionPlan.DefaultConnections(20_000, null));
    }

    [Fact]
    public void DefaultConnections_UnlimitedRlimit_DoesNotOverflow()
    {
        Assert.Equal(20_000, ConnectionPlan.DefaultConnections(20_000, ulong.MaxValue));
    }
}
