namespace EventLoop.Tests.Extending;

public sealed class ThreadAccessTests
{
    [Fact]
    public void CheckAccess_OwnerThreadWhileIdle_True()
    {
        using var loop = new Loop();

        Assert.True(loop.CheckAccess());
        loop.VerifyAccess();
    }

    [Fact]
    public void CheckAccess_OtherThreadWhileIdle_FalseAndVerifyAccessThrows()
    {
        using var loop = new Loop();

        (bool access, Exception? error) = OnNewThread(() => (loop.CheckAccess(), Record.Exception(loop.VerifyAccess)));

        Assert.False(access);
        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void CheckAccess_OtherThreadWhileRunning_False()
    {
        using var loop = new Loop();
        bool insideLoop = false;
        bool fromPool = true;

        loop.Run(async () =>
        {
            insideLoop = loop.CheckAccess();
            fromPool = await Task.Run(loop.CheckAccess);
        });

        Assert.True(insideLoop);
        Assert.False(fromPool);
    }

    [Fact]
    public void CheckAccess_ThreadThatRanTheLoopBefore_FalseWhileAnotherThreadRunsIt_TrueOnTheRunner()
    {
        using var loop = new Loop();
        using var ranOnce = new ManualResetEventSlim();
        using var asked = new ManualResetEventSlim();
        bool? formerRunner = null;
        Exception? formerVerify = null;
        var former = new Thread(() =>
        {
            loop.RunOnce(TimeSpan.Zero); // takes the loop over, then leaves it
            ranOnce.Set();
            asked.Wait();
            formerRunner = loop.CheckAccess();
            formerVerify = Record.Exception(loop.VerifyAccess);
        });
        former.Start();
        ranOnce.Wait();
        bool runner = false;
        bool runnerAfterAsking = false;

        loop.Run(async () =>
        {
            runner = loop.CheckAccess();
            asked.Set();
            await Task.Run(former.Join); // the former runner asks while this thread runs the loop
            runnerAfterAsking = loop.CheckAccess();
        });

        Assert.True(runner);
        Assert.True(runnerAfterAsking);
        Assert.False(formerRunner);
        Assert.IsType<InvalidOperationException>(formerVerify);
        Assert.True(loop.CheckAccess()); // the runner owns it again once Run returns
    }

    [Fact]
    public void VerifyAccess_AfterDispose_ThrowsObjectDisposed()
    {
        var loop = new Loop();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(loop.VerifyAccess);
    }

    [Fact]
    public void RunOrPost_OnLoopThread_RunsInline()
    {
        using var loop = new Loop();
        var order = new List<string>();

        loop.Run(async () =>
        {
            loop.Post(() => order.Add("posted"));
            loop.RunOrPost(s => order.Add((string)s!), "inline");
            order.Add("after");
            await loop.Yield();
        });

        Assert.Equal(["inline", "after", "posted"], order);
    }

    [Fact]
    public void RunOrPost_FromOtherThread_RunsOnLoopThreadInPostOrder()
    {
        using var loop = new Loop();
        var order = new List<int>();
        int loopThread = 0;
        var threads = new List<int>();

        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await Task.Run(() =>
            {
                for (int i = 0; i < 100; i++)
                {
                    loop.RunOrPost(
                        s =>
                        {
                            order.Add((int)s!);
                            threads.Add(Environment.CurrentManagedThreadId);
                        },
                        i);
                }

                loop.RunOrPost(_ => done.SetResult(), null);
            });
            await done.Task;
        });

        Assert.Equal(Enumerable.Range(0, 100), order);
        Assert.All(threads, t => Assert.Equal(loopThread, t));
    }

    [Fact]
    public void RunOrPost_DisposedLoopFromOtherThread_ThrowsObjectDisposed()
    {
        var loop = new Loop();
        loop.Dispose();

        Exception? error = OnNewThread(() => Record.Exception(() => loop.RunOrPost(_ => { }, null)));

        Assert.IsType<ObjectDisposedException>(error);
    }

    [Fact]
    public void RunOrPost_NullCallback_Throws()
    {
        using var loop = new Loop();

        Assert.Throws<ArgumentNullException>(() => loop.RunOrPost(null!, null));
    }

    // A dedicated thread: a thread-pool worker could be the very thread that created the loop.
    private static T OnNewThread<T>(Func<T> body)
    {
        T result = default!;
        var thread = new Thread(() => result = body());
        thread.Start();
        thread.Join();
        return result;
    }
}
