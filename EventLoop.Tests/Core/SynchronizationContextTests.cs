namespace EventLoop.Tests.Core;

public sealed class SynchronizationContextTests
{
    [Fact]
    public void Await_ThreadPoolWork_ResumesOnLoopThread()
    {
        using var loop = new Loop();
        var threads = loop.Run(async () =>
        {
            int loopThread = Environment.CurrentManagedThreadId;
            await Task.Run(() => Thread.Yield());
            int afterRun = Environment.CurrentManagedThreadId;
            await Task.Delay(1);
            int afterDelay = Environment.CurrentManagedThreadId;
            var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = Task.Run(() => tcs.SetResult(1));
            await tcs.Task;
            return (loopThread, afterRun, afterDelay, Environment.CurrentManagedThreadId);
        });

        Assert.Equal(threads.loopThread, threads.afterRun);
        Assert.Equal(threads.loopThread, threads.afterDelay);
        Assert.Equal(threads.loopThread, threads.Item4);
    }

    [Fact]
    public void Run_InstallsContextAndCurrent_AndRestoresThem()
    {
        var outer = new SynchronizationContext();
        SynchronizationContext.SetSynchronizationContext(outer);
        try
        {
            using var loop = new Loop();
            (SynchronizationContext? ctx, Loop? current) inside = default;
            loop.Run(() =>
            {
                inside = (SynchronizationContext.Current, Loop.Current);
                return Task.CompletedTask;
            });

            Assert.IsType<LoopSynchronizationContext>(inside.ctx);
            Assert.Same(loop, ((LoopSynchronizationContext)inside.ctx!).Loop);
            Assert.Same(loop, inside.current);
            Assert.Same(outer, SynchronizationContext.Current);
            Assert.Null(Loop.Current);

            // A loop can run again after Run returns.
            Assert.Equal(7, loop.Run(() => Task.FromResult(7)));
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }
    }

    [Fact]
    public void Send_FromOtherThread_RunsOnLoopAndWaits_InlineOnLoopThread()
    {
        using var loop = new Loop();
        loop.Run(async () =>
        {
            var context = SynchronizationContext.Current!;
            int loopThread = Environment.CurrentManagedThreadId;
            int inlineThread = 0;
            context.Send(_ => inlineThread = Environment.CurrentManagedThreadId, null);
            Assert.Equal(loopThread, inlineThread);

            int sentThread = await Task.Run(() =>
            {
                int t = 0;
                context.Send(_ => t = Environment.CurrentManagedThreadId, null);
                return t;
            });
            Assert.Equal(loopThread, sentThread);

            var boom = new FormatException();
            Exception? error = await Task.Run(() => Record.Exception(() => context.Send(_ => throw boom, null)));
            Assert.Same(boom, error);
        });
    }

    [Fact]
    public void Run_Nested_Throws()
    {
        using var loop = new Loop();
        var error = Assert.Throws<InvalidOperationException>(() => loop.Run(() =>
        {
            loop.RunOnce(TimeSpan.Zero);
            return Task.CompletedTask;
        }));
        Assert.Contains("already running", error.Message);
    }

    [Fact]
    public void ConfigureAwaitFalseEscape_IsReported_AndLoopApiRefusesOffThread()
    {
        var reported = new List<Exception>();
        using var loop = new Loop(new LoopOptions { UnhandledException = reported.Add });
        Greenlet g = loop.Spawn(async () =>
        {
            // Completed by the loop after this await has registered its continuation, and with
            // asynchronous continuations, so the continuation always lands on the thread pool.
            var offLoop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.Post(() => offLoop.SetResult());
            await offLoop.Task.ConfigureAwait(false);
            _ = loop.CallLater(TimeSpan.FromSeconds(1), () => { }); // off the loop thread now
        });
        loop.JoinAll([g]);
        Assert.IsType<InvalidOperationException>(g.Exception);
        Assert.Contains("off the loop thread", g.Exception!.Message + string.Join("|", reported.Select(r => r.Message)));
    }
}
