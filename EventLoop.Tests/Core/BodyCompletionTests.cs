namespace EventLoop.Tests.Core;

/// <summary>
/// However a body completes (in a step the loop runs, after awaiting a loop source directly,
/// after awaiting a task, or off the loop thread after <c>ConfigureAwait(false)</c>), its greenlet
/// completes with the body's outcome, and joiners and listeners hear of it.
/// </summary>
public sealed class BodyCompletionTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void BodyAwaitingLoopSourcesOnly_CompletesInTheStepThatFinishesIt()
    {
        using Loop loop = LoopAssert.Virtual();
        var order = new List<string>();
        Greenlet<int> g = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(5));
            await loop.Yield();
            await loop.Sleep(TimeSpan.Zero);
            order.Add("body returns");
            return 42;
        });
        g.Link(_ => order.Add("listener"));
        Greenlet after = loop.Spawn(async () =>
        {
            await g;
            order.Add("joiner resumes");
        });

        loop.JoinAll([g, after], s_bound);

        Assert.True(g.Succeeded);
        Assert.Equal(42, g.Value);
        Assert.Equal(["body returns", "listener", "joiner resumes"], order);
    }

    [Fact]
    public void BodyThrowingAfterALoopWait_FailsTheGreenletWithThatException()
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions { VirtualTime = true, UnhandledException = reported.Add });
        var boom = new FormatException("after the sleep");
        Greenlet g = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(1));
            throw boom;
        });

        loop.JoinAll([g], s_bound);

        Assert.Same(boom, g.Exception);
        Assert.Same(boom, Assert.Single(reported));
    }

    [Fact]
    public void BodyEscapingAfterALoopWait_CompletesOffTheLoop_IsObservedAndReported()
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions { UnhandledException = reported.Add });
        int bodyThread = 0;
        Greenlet<int> g = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(1)); // this step ends parked on a loop source
            var offLoop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.Post(() => offLoop.SetResult()); // completed after the await below registers
            await offLoop.Task.ConfigureAwait(false);
            bodyThread = Environment.CurrentManagedThreadId; // a thread-pool thread
            return 7;
        });

        loop.JoinAll([g], s_bound);

        Assert.True(g.Succeeded);
        Assert.Equal(7, g.Value);
        Assert.NotEqual(Environment.CurrentManagedThreadId, bodyThread);
        Assert.Contains(reported, e => e.Message.Contains("resumed off the loop thread"));
    }

    [Fact]
    public void BodyAwaitingALoopWaitAsTaskBesideAForeignTask_OffTheLoop_IsObserved()
    {
        using var loop = new Loop();
        var foreign = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Greenlet g = loop.Spawn(async () =>
        {
            Task sleep = loop.Sleep(TimeSpan.FromMilliseconds(1)).AsTask();
            loop.Post(() => _ = sleep.ContinueWith(_ => foreign.SetResult(), TaskScheduler.Default));
            await Task.WhenAll(sleep, foreign.Task).ConfigureAwait(false); // resumes on the thread pool
        });

        loop.JoinAll([g], s_bound);

        Assert.True(g.Succeeded);
    }

    [Fact]
    public void BodyAwaitingAnotherGreenletsTask_CompletesWhenThatOneDoes()
    {
        using Loop loop = LoopAssert.Virtual();
        Greenlet<int> inner = loop.Spawn(async () =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(3));
            return 5;
        });
        Greenlet<int> outer = loop.Spawn(async () =>
        {
            await inner.Task; // a task, not a loop source: its continuation is posted to the greenlet
            return inner.Value * 2;
        });

        loop.JoinAll([outer], s_bound);

        Assert.Equal(10, outer.Value);
    }

    [Fact]
    public void KilledWhileParkedOnALoopSource_EndsKilled_AndItsFinallyRunsOnTheLoop()
    {
        using Loop loop = LoopAssert.Virtual();
        int finallyThread = 0;
        Greenlet g = loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(TimeSpan.FromHours(1));
            }
            finally
            {
                finallyThread = Environment.CurrentManagedThreadId;
            }
        });
        loop.RunOnce(TimeSpan.Zero);

        g.Kill();
        loop.JoinAll([g], s_bound);

        Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        Assert.Equal(Environment.CurrentManagedThreadId, finallyThread);
    }
}
