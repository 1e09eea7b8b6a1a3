namespace EventLoop.Tests.Embedding;

/// <summary>
/// Corner cases of a host that drives the loop from outside: by <see cref="Loop.BackendDescriptor"/>
/// alone, or by <see cref="Loop.GetPollTimeout"/> and <see cref="Loop.RunOnce"/>.
/// </summary>
public sealed class HostEdgeCaseTests
{
    // Liveness only, for waits that must end: reached only when the test is already failing.
    private const int LivenessMs = 10_000;

    [Fact]
    public void GetPollTimeout_VirtualClock_RunOnceWithItReachesTheTimer()
    {
        using Loop loop = new(new LoopOptions { VirtualTime = true });
        bool fired = false;
        loop.CallLater(TimeSpan.FromSeconds(3), () => fired = true);
        Assert.Equal(TimeSpan.FromSeconds(3), loop.GetPollTimeout());

        // The host loop of the README: on a virtual clock a zero timeout never moves time, so a
        // host told "zero" while only a timer is pending would spin without ever reaching it.
        for (int i = 0; i < 10 && !fired; i++)
        {
            loop.RunOnce(loop.GetPollTimeout());
        }

        Assert.True(fired);
        Assert.Equal(TimeSpan.FromSeconds(3), loop.Now);
        Assert.Equal(Timeout.InfiniteTimeSpan, loop.GetPollTimeout());
    }

    [Fact]
    public void VirtualClock_TimerDueWithoutAJump_MakesTheDescriptorReadable()
    {
        using Loop loop = new(new LoopOptions { VirtualTime = true });
        int fd = loop.BackendDescriptor;
        if (fd < 0)
        {
            return;
        }

        // A zero-delay timer (or an ITimer changed to fire now) is due on the clock as it stands:
        // no jump is needed, so a host waiting on the descriptor alone must wake for it.
        var fired = new List<string>();
        loop.CallLater(TimeSpan.Zero, () =>
        {
            fired.Add("first");
            loop.CallLater(TimeSpan.Zero, () => fired.Add("second"));
        });
        loop.CallLater(TimeSpan.FromHours(1), () => fired.Add("later"));

        Assert.True(HostPoll.IsReadable(fd, LivenessMs), "a due timer left the descriptor unreadable");
        loop.RunOnce(TimeSpan.Zero);
        Assert.True(HostPoll.IsReadable(fd, LivenessMs), "a due timer scheduled by a callback left the descriptor unreadable");
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(["first", "second"], fired);

        // What is left needs the clock to jump: the host decides when, so the descriptor stays quiet.
        Assert.False(HostPoll.IsReadable(fd));
        Assert.Equal(TimeSpan.Zero, loop.Now);
    }
}
