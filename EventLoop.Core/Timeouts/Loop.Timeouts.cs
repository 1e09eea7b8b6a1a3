namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Creates a token source that the loop cancels after <paramref name="delay"/> of loop time
    /// (virtual time applies). The caller owns it: dispose it when done, which cancels the timer. Loop thread.
    /// </summary>
    /// <param name="delay">Time until cancellation.</param>
    /// <returns>The source.</returns>
    public LoopTimeoutSource CreateTimeoutSource(TimeSpan delay) => new(this, delay);

    /// <summary>
    /// Returns a token the loop cancels after <paramref name="delay"/> of loop time. Nothing to
    /// dispose: the loop owns the source and lets it go when it fires (until then the timer keeps
    /// it alive). For long deadlines that are usually abandoned, prefer <see cref="CreateTimeoutSource"/>
    /// and dispose it. Loop thread.
    /// </summary>
    /// <param name="delay">Time until cancellation.</param>
    /// <returns>The token.</returns>
    public CancellationToken CreateTimeoutToken(TimeSpan delay) => new LoopTimeoutSource(this, delay).Token;

    /// <summary>
    /// Opens a <see cref="CancelScope"/> for the current greenlet that expires after <paramref name="delay"/>:
    /// its loop waits then throw <see cref="LoopTimeoutException"/> (a <see cref="TimeoutException"/>),
    /// like <c>gevent.Timeout</c> or trio's <c>fail_after</c>. Use as <c>using (loop.FailAfter(d)) { ... }</c>. Loop thread.
    /// </summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <returns>The scope; dispose it to leave.</returns>
    /// <exception cref="InvalidOperationException">Not called inside a greenlet.</exception>
    public CancelScope FailAfter(TimeSpan delay) => new(this, delay);

    /// <summary>
    /// Opens a <see cref="CancelScope"/> like <see cref="FailAfter"/>, meant to be caught:
    /// <c>using var scope = loop.MoveOnAfter(d); try { ... } catch (Exception ex) when (scope.IsOwnError(ex)) { }</c>.
    /// <see cref="MoveOnAfter(TimeSpan, Func{Task})"/> does that for a body. Loop thread.
    /// </summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <returns>The scope; dispose it to leave.</returns>
    public CancelScope MoveOnAfter(TimeSpan delay) => new(this, delay);

    /// <summary>Opens a <see cref="CancelScope"/> without a deadline, to be cancelled with <see cref="CancelScope.Cancel"/>. Loop thread.</summary>
    /// <returns>The scope; dispose it to leave.</returns>
    public CancelScope OpenCancelScope() => new(this, null);

    /// <summary>
    /// Runs <paramref name="body"/> in the current greenlet under a deadline, like trio's
    /// <c>move_on_after</c>: when the deadline interrupts it, the timeout is swallowed. Loop thread.
    /// </summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <param name="body">The work; its loop waits are interrupted at the deadline.</param>
    /// <returns>True when the body completed, false when the deadline interrupted it.</returns>
    public async Task<bool> MoveOnAfter(TimeSpan delay, Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using CancelScope scope = MoveOnAfter(delay);
        try
        {
            await body().ConfigureAwait(true);
            return true;
        }
        catch (Exception ex) when (scope.IsOwnError(ex))
        {
            return false;
        }
    }

    /// <summary>Like <see cref="MoveOnAfter(TimeSpan, Func{Task})"/>, passing the scope's token to the body.</summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <param name="body">The work; receives a token cancelled at the deadline.</param>
    /// <returns>True when the body completed, false when the deadline interrupted it.</returns>
    public async Task<bool> MoveOnAfter(TimeSpan delay, Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using CancelScope scope = MoveOnAfter(delay);
        try
        {
            await body(scope.Token).ConfigureAwait(true);
            return true;
        }
        catch (Exception ex) when (scope.IsOwnError(ex) || (ex is OperationCanceledException oce && oce.CancellationToken == scope.Token && scope.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>
    /// Awaits <paramref name="task"/>, failing with <see cref="TimeoutException"/> when it has not
    /// completed after <paramref name="delay"/> of loop time. The task itself keeps running (a
    /// Task cannot be stopped from outside); to stop a greenlet's own work use <see cref="FailAfter"/>. Loop thread.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>A task that completes like <paramref name="task"/> or fails with <see cref="TimeoutException"/>.</returns>
    public async Task WithTimeout(Task task, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!task.IsCompleted)
        {
            using LoopTimeoutSource cts = CreateTimeoutSource(delay);
            try
            {
                await task.WaitAsync(cts.Token).ConfigureAwait(true);
                return;
            }
            catch (OperationCanceledException) when (cts.TimedOut)
            {
                // A task that completed before the timer fired wins, even if its continuation
                // had not run yet (it may hop through the thread pool while loop time moves on).
                if (!task.IsCompleted)
                {
                    throw new TimeoutException($"The operation did not complete within {delay}.");
                }
            }
        }

        await task.ConfigureAwait(true);
    }

    /// <summary>Like <see cref="WithTimeout(Task, TimeSpan)"/> for a task with a result.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>The task's result.</returns>
    public async Task<T> WithTimeout<T>(Task<T> task, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!task.IsCompleted)
        {
            using LoopTimeoutSource cts = CreateTimeoutSource(delay);
            try
            {
                return await task.WaitAsync(cts.Token).ConfigureAwait(true);
            }
            catch (OperationCanceledException) when (cts.TimedOut)
            {
                if (!task.IsCompleted)
                {
                    throw new TimeoutException($"The operation did not complete within {delay}.");
                }
            }
        }

        return await task.ConfigureAwait(true);
    }

    /// <summary>Like <see cref="WithTimeout(Task, TimeSpan)"/> for a ValueTask (converted to a Task only when it is still pending).</summary>
    /// <param name="task">The ValueTask; awaited once.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>A ValueTask that completes like <paramref name="task"/> or fails with <see cref="TimeoutException"/>.</returns>
    public ValueTask WithTimeout(ValueTask task, TimeSpan delay) =>
        task.IsCompleted ? task : new ValueTask(WithTimeout(task.AsTask(), delay));

    /// <summary>Like <see cref="WithTimeout(Task, TimeSpan)"/> for a ValueTask with a result.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The ValueTask; awaited once.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>The result.</returns>
    public ValueTask<T> WithTimeout<T>(ValueTask<T> task, TimeSpan delay) =>
        task.IsCompleted ? task : new ValueTask<T>(WithTimeout(task.AsTask(), delay));
}
