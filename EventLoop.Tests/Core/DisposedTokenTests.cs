namespace EventLoop.Tests.Core;

/// <summary>
/// <see cref="Loop.DisposedToken"/>: how a layer that completes tasks for other threads learns that
/// the loop will run nothing more. Canceled by Dispose after the greenlets ended and the
/// descriptors were released, its callbacks on the disposing thread, their failures reported.
/// </summary>
public sealed class DisposedTokenTests
{
    [Fact]
    public void Dispose_CancelsIt_AfterGreenletsUnwoundAndWatchesReleased()
    {
        var order = new List<string>();
        var loop = new Loop();
        using var pair = new SocketPair();
        var handler = new RecordingHandler(order);
        loop.Watch(pair.Left.SafeHandle, IoEvents.Read, handler);
        loop.Spawn(async () =>
        {
            try
            {
                await loop.Sleep(Timeout.InfiniteTimeSpan);
            }
            finally
            {
                order.Add("greenlet unwound");
            }
        });
        loop.RunOnce(TimeSpan.Zero);
        CancellationToken token = loop.DisposedToken;
        bool disposedWhenCanceled = false;
        int canceledOnThread = 0;
        using CancellationTokenRegistration registration = token.Register(() =>
        {
            order.Add("token");
            disposedWhenCanceled = loop.IsDisposed;
            canceledOnThread = Environment.CurrentManagedThreadId;
        });
        Assert.False(token.IsCancellationRequested);

        loop.Dispose();

        Assert.Equal(["greenlet unwound", "watch released", "token"], order);
        Assert.True(disposedWhenCanceled);
        Assert.Equal(Environment.CurrentManagedThreadId, canceledOnThread);
        Assert.True(loop.DisposedToken.IsCancellationRequested);
    }

    [Fact]
    public void ReadAfterDispose_IsCanceled_ARegistrationRunsAtOnce()
    {
        var loop = new Loop();
        loop.Dispose();

        bool ran = false;
        using CancellationTokenRegistration registration = loop.DisposedToken.Register(() => ran = true);

        Assert.True(loop.DisposedToken.IsCancellationRequested);
        Assert.True(ran);
        loop.Dispose(); // idempotent
    }

    [Fact]
    public void ACallbackThrows_ItGoesToTheHandler_TheOthersRun_AndDisposeCompletes()
    {
        var unhandled = new List<Exception>();
        var loop = new Loop(new LoopOptions { UnhandledException = unhandled.Add });
        var boom = new InvalidOperationException("boom");
        bool otherRan = false;
        using CancellationTokenRegistration first = loop.DisposedToken.Register(() => throw boom);
        using CancellationTokenRegistration second = loop.DisposedToken.Register(() => otherRan = true);

        loop.Dispose();

        Assert.True(otherRan);
        Assert.Same(boom, Assert.Single(unhandled));
        Assert.True(loop.IsDisposed);
    }

    [Fact]
    public void PostedFromAnotherThread_NeverRun_TheRegistrationTellsThePoster()
    {
        // The pattern DisposedToken is for: a task completed by work posted to the loop.
        var loop = new Loop();
        var outcome = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var poster = new Thread(() =>
        {
            CancellationTokenRegistration registration = loop.DisposedToken.UnsafeRegister(
                _ => outcome.TrySetException(new ObjectDisposedException(nameof(Loop))), null);
            loop.Post(() =>
            {
                outcome.TrySetResult();
                registration.Unregister();
            });
        });
        poster.Start();
        Assert.True(poster.Join(TimeSpan.FromSeconds(30)));

        loop.Dispose();

        Assert.True(outcome.Task.IsFaulted);
        Assert.IsType<ObjectDisposedException>(outcome.Task.Exception!.InnerException);
    }

    private sealed class RecordingHandler(List<string> order) : IReadinessHandler
    {
        public void OnReady(ReadinessWatch watch, IoEvents events)
        {
        }

        public void OnLoopDisposed(ReadinessWatch watch) => order.Add("watch released");
    }
}
