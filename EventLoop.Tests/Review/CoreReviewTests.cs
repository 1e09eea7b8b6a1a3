using EventLoop.Tests.Core;

namespace EventLoop.Tests.Review;

public sealed class CoreReviewTests
{
    [Fact]
    public void RunOnce_StopDuringIt_IsConsumed_LaterRunOnceBlocksAndVirtualClockStillJumps()
    {
        using Loop loop = LoopAssert.Virtual();
        loop.Post(loop.Stop);
        loop.RunOnce(TimeSpan.Zero);

        // A served Stop must not stay pending: a host would see "work ready" forever (spin).
        Assert.Equal(Timeout.InfiniteTimeSpan, loop.GetPollTimeout());
        bool fired = false;
        loop.CallLater(TimeSpan.FromHours(1), () => fired = true);
        loop.RunOnce(Timeout.InfiniteTimeSpan);
        Assert.True(fired);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void RunMain_Nested_Throws_AndMainNeverRuns()
    {
        using Loop loop = LoopAssert.Virtual();
        bool innerRan = false;
        Exception? error = null;
        loop.Run(async () =>
        {
            try
            {
                loop.Run(async () => { innerRan = true; await Task.CompletedTask; });
            }
            catch (InvalidOperationException ex)
            {
                error = ex;
            }

            await loop.Sleep(TimeSpan.FromSeconds(1));
        });

        Assert.NotNull(error);
        Assert.False(innerRan);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void RunMain_FromOtherThreadWhileRunning_Throws_AndMainNeverRuns()
    {
        using Loop loop = LoopAssert.Virtual();
        bool innerRan = false;
        Exception? error = null;
        loop.Run(async () =>
        {
            await Task.Run(() =>
            {
                try
                {
                    loop.Run(async () => { innerRan = true; await Task.CompletedTask; });
                }
                catch (InvalidOperationException ex)
                {
                    error = ex;
                }
            });
            await loop.Sleep(TimeSpan.FromSeconds(1));
        });

        Assert.NotNull(error);
        Assert.False(innerRan);
    }
}
