namespace EventLoop.Net.Internal;

/// <summary>
/// Runs a loop-thread operation on behalf of another thread (HttpClient's thread-pool
/// continuations calling the connection's Stream, a connect started off the loop): the operation
/// is posted to the loop, started there, and its outcome is handed back through a task. The task
/// also ends when the loop is disposed first, with an <see cref="ObjectDisposedException"/>: a
/// disposed loop runs neither a start still queued nor the continuation of a wait it failed while
/// releasing its descriptors, so each call is registered on <see cref="Loop.DisposedToken"/> from
/// before its post until its outcome is handed over. Allocates; it is the off-loop slow path.
/// </summary>
internal static class LoopInvoke
{
    /// <summary>Posts <paramref name="start"/> to <paramref name="loop"/> and completes the returned task with its outcome.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="loop">The loop that owns the resource.</param>
    /// <param name="start">Starts the operation; called on the loop thread.</param>
    /// <returns>
    /// A task that completes (asynchronously, never inline on the loop) with the operation, or
    /// fails with <see cref="ObjectDisposedException"/> when the loop is disposed before it did.
    /// </returns>
    public static Task<T> RunAsync<T>(Loop loop, Func<ValueTask<T>> start)
    {
        var call = new Call<T>(loop, start);
        call.Post();
        return call.Task;
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

    /// <summary>One call: its task, and its registration on the loop's disposal while the outcome is awaited.</summary>
    private sealed class Call<T> : TaskCompletionSource<T>
    {
        private static readonly SendOrPostCallback s_start = static s => ((Call<T>)s!).Start();
        private static readonly Action<object?> s_loopDisposed = static s => ((Call<T>)s!).OnLoopDisposed();

        private readonly Loop _loop;
        private readonly Func<ValueTask<T>> _start;
        private CancellationTokenRegistration _disposal;

        public Call(Loop loop, Func<ValueTask<T>> start)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _loop = loop;
            _start = start;
        }

        public void Post()
        {
            // Registered before the post: a Dispose that cancels the token later fails the call
            // wherever its start or outcome got stuck (or dropped), and one that came before runs
            // the callback right here.
            _disposal = _loop.DisposedToken.UnsafeRegister(s_loopDisposed, this);
            if (Task.IsCompleted)
            {
                return;
            }

            try
            {
                _loop.Post(s_start, this);
            }
            catch (ObjectDisposedException ex)
            {
                Fail(ex);
            }
        }

        private void Start()
        {
            ValueTask<T> pending;
            try
            {
                pending = _start();
            }
            catch (Exception ex)
            {
                Fail(ex);
                return;
            }

            _ = ForwardAsync(pending);
        }

        // Every failure is handed over as the very exception (a kill's or a cancel scope's included),
        // so the caller's code and Greenlet outcomes see the object the loop wait threw.
        private async Task ForwardAsync(ValueTask<T> pending)
        {
            T result;
            try
            {
                result = await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Fail(ex);
                return;
            }

            TrySetResult(result);
            _disposal.Unregister();
        }

        private void Fail(Exception error)
        {
            TrySetException(error);
            _disposal.Unregister();
        }

        private void OnLoopDisposed() => TrySetException(
            new ObjectDisposedException(nameof(Loop), $"The loop '{_loop.Name}' was disposed before the operation completed."));
    }
}
