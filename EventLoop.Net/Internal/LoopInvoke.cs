namespace EventLoop.Net.Internal;

/// <summary>
/// Runs a loop-thread operation on behalf of another thread (HttpClient's thread-pool
/// continuations calling the connection's Stream): the operation is posted to the loop, started
/// there, and its outcome is handed back through a task. Allocates; it is the off-loop slow path.
/// </summary>
internal static class LoopInvoke
{
    /// <summary>Posts <paramref name="start"/> to <paramref name="loop"/> and completes the returned task with its outcome.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="loop">The loop that owns the resource.</param>
    /// <param name="start">Starts the operation; called on the loop thread.</param>
    /// <returns>A task that completes (asynchronously, never inline on the loop) with the operation.</returns>
    public static Task<T> RunAsync<T>(Loop loop, Func<ValueTask<T>> start)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            loop.Post(() =>
            {
                ValueTask<T> pending;
                try
                {
                    pending = start();
                }
                catch (Exception ex)
                {
                    completion.TrySetException(ex);
                    return;
                }

                _ = ForwardAsync(pending, completion);
            });
        }
        catch (ObjectDisposedException ex)
        {
            completion.TrySetException(ex);
        }

        return completion.Task;
    }

    /// <summary>Like <see cref="RunAsync{T}(Loop, Func{ValueTask{T}})"/> for an operation without a result.</summary>
    /// <param name="loop">The loop that owns the resource.</param>
    /// <param name="start">Starts the operation; called on the loop thread.</param>
    /// <returns>A task that completes with the operation.</returns>
    public static Task RunAsync(Loop loop, Func<ValueTask> start) =>
        RunAsync(loop, async () =>
        {
            await start().ConfigureAwait(false);
            return true;
        });

    // Every failure is handed over as the very exception (a kill's or a cancel scope's included),
    // so the caller's code and Greenlet outcomes see the object the loop wait threw.
    private static async Task ForwardAsync<T>(ValueTask<T> pending, TaskCompletionSource<T> completion)
    {
        try
        {
            completion.TrySetResult(await pending.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            completion.TrySetException(ex);
        }
    }
}
