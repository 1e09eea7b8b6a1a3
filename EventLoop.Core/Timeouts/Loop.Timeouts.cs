using System.ComponentModel;

namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Opens a <see cref="CancelScope"/> for the current greenlet that expires after <paramref name="delay"/>
    /// of loop time: its loop waits then throw <see cref="LoopTimeoutException"/> (a <see cref="TimeoutException"/>)
    /// naming this scope, like <c>gevent.Timeout</c> or trio's <c>fail_after</c>.
    /// Use as <c>using (loop.FailAfter(d)) { ... }</c>. Loop thread, inside a greenlet.
    /// </summary>
    /// <remarks>
    /// The deadline reaches every loop wait of the greenlet, including those a library starts for
    /// it with no token passed (HttpClient over <c>LoopHttp</c>, a <c>StreamReader</c> over a
    /// connection's stream): the library sees the <see cref="LoopTimeoutException"/> thrown by its
    /// read or write, and passes it on (or wraps it; <see cref="CancelScope.IsOwnError"/> looks
    /// through inner exceptions). If the greenlet is suspended in an await the loop does not own
    /// (<c>await Task.Delay</c>, a <see cref="TaskCompletionSource"/>) when the deadline passes, the
    /// greenlet is completed as killed on the next iteration (its exception an
    /// <see cref="OperationCanceledException"/> whose inner exception is the timeout) and its body
    /// detached: its <c>finally</c> blocks run when that task completes. Pass
    /// <see cref="CancelScope.Token"/> to such awaits to end them at the deadline instead.
    /// </remarks>
    /// <param name="delay">Time until the deadline; <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
    /// <returns>The scope; dispose it to leave.</returns>
    /// <exception cref="InvalidOperationException">Not called inside a greenlet.</exception>
    public CancelScope FailAfter(TimeSpan delay) => new(this, delay);

    /// <summary>Opens a <see cref="CancelScope"/> without a deadline, to be canceled with <see cref="CancelScope.Cancel"/>. Loop thread, inside a greenlet.</summary>
    /// <returns>The scope; dispose it to leave.</returns>
    /// <exception cref="InvalidOperationException">Not called inside a greenlet.</exception>
    public CancelScope OpenCancelScope() => new(this, null);

    /// <summary>
    /// Runs <paramref name="body"/> in the current greenlet under a deadline and moves on when it
    /// passes, like trio's <c>move_on_after</c>: the body's loop waits are interrupted at the
    /// deadline and the timeout is swallowed here. Any other exception, an outer scope's deadline
    /// and a kill pass through. Loop thread, inside a greenlet.
    /// </summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <param name="body">The work; its loop waits are interrupted at the deadline.</param>
    /// <returns>True when the body completed, false when the deadline interrupted it.</returns>
    /// <exception cref="InvalidOperationException">Not called inside a greenlet.</exception>
    /// <remarks>
    /// The deadline reaches the loop waits a library starts inside the body with no token passed
    /// (HttpClient over <c>LoopHttp</c>, a <c>StreamReader</c> over a connection's stream), and
    /// the timeout is recognised even when the library wraps it in an exception of its own. A body
    /// suspended in an await the loop does not own at the deadline (a <see cref="Task"/>, a
    /// thread-pool API, HttpClient waiting for a connection) cannot be interrupted: within one
    /// iteration <c>MoveOnAfter</c> abandons it and returns false, and the greenlet carries on (the
    /// cancel scopes the body opened are left, and the children of its task scopes killed). The
    /// abandoned body resumes when that await completes, its later loop waits fail at once with
    /// the deadline's <see cref="LoopTimeoutException"/>, and its outcome is dropped. A body in a
    /// loop wait is interrupted and unwinds (its <c>finally</c> blocks run) before this returns.
    /// </remarks>
    public async Task<bool> MoveOnAfter(TimeSpan delay, Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var scope = new CancelScope(this, delay);
        try
        {
            await scope.RunBodyAsync(body).ConfigureAwait(true);
            return true;
        }
        catch (Exception ex) when (scope.IsOwnError(ex))
        {
            return false;
        }
    }

    /// <summary>
    /// Like <see cref="MoveOnAfter(TimeSpan, Func{Task})"/>, passing the body a token canceled at
    /// the deadline, for waits that are not loop waits.
    /// </summary>
    /// <param name="delay">Time until the deadline.</param>
    /// <param name="body">The work; receives a token canceled at the deadline.</param>
    /// <returns>True when the body completed, false when the deadline interrupted it.</returns>
    /// <exception cref="InvalidOperationException">Not called inside a greenlet.</exception>
    public async Task<bool> MoveOnAfter(TimeSpan delay, Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var scope = new CancelScope(this, delay);
        try
        {
            await scope.RunBodyAsync(() => body(scope.Token)).ConfigureAwait(true);
            return true;
        }
        catch (Exception ex) when (scope.IsOwnError(ex) || (ex is OperationCanceledException oce && oce.CancellationToken == scope.Token && scope.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Obsolete: use <c>new CancellationTokenSource(delay, loop.Time)</c>, which the loop's clock cancels on the loop thread.</summary>
    /// <param name="delay">Time until cancellation.</param>
    /// <returns>The source.</returns>
    [Obsolete("Use new CancellationTokenSource(delay, loop.Time); this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public LoopTimeoutSource CreateTimeoutSource(TimeSpan delay) => new(this, delay);

    /// <summary>Obsolete: use <c>new CancellationTokenSource(delay, loop.Time).Token</c>.</summary>
    /// <param name="delay">Time until cancellation.</param>
    /// <returns>The token.</returns>
    [Obsolete("Use new CancellationTokenSource(delay, loop.Time).Token; this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public CancellationToken CreateTimeoutToken(TimeSpan delay) => new CancellationTokenSource(delay, Time).Token;

    /// <summary>Obsolete: use <c>task.WaitAsync(delay, loop.Time)</c>, or a <see cref="FailAfter"/> scope to stop the work itself.</summary>
    /// <param name="task">The task.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>A task that completes like <paramref name="task"/> or fails with <see cref="TimeoutException"/>.</returns>
    [Obsolete("Use task.WaitAsync(delay, loop.Time); this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Task WithTimeout(Task task, TimeSpan delay) => (task ?? throw new ArgumentNullException(nameof(task))).WaitAsync(delay, Time);

    /// <summary>Obsolete: use <c>task.WaitAsync(delay, loop.Time)</c>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>The task's result.</returns>
    [Obsolete("Use task.WaitAsync(delay, loop.Time); this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Task<T> WithTimeout<T>(Task<T> task, TimeSpan delay) => (task ?? throw new ArgumentNullException(nameof(task))).WaitAsync(delay, Time);

    /// <summary>Obsolete: use <c>task.AsTask().WaitAsync(delay, loop.Time)</c>.</summary>
    /// <param name="task">The ValueTask; awaited once.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>A ValueTask that completes like <paramref name="task"/> or fails with <see cref="TimeoutException"/>.</returns>
    [Obsolete("Use task.AsTask().WaitAsync(delay, loop.Time); this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueTask WithTimeout(ValueTask task, TimeSpan delay) =>
        task.IsCompleted ? task : new ValueTask(task.AsTask().WaitAsync(delay, Time));

    /// <summary>Obsolete: use <c>task.AsTask().WaitAsync(delay, loop.Time)</c>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The ValueTask; awaited once.</param>
    /// <param name="delay">How long to wait.</param>
    /// <returns>The result.</returns>
    [Obsolete("Use task.AsTask().WaitAsync(delay, loop.Time); this forwarder goes in the next release.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueTask<T> WithTimeout<T>(ValueTask<T> task, TimeSpan delay) =>
        task.IsCompleted ? task : new ValueTask<T>(task.AsTask().WaitAsync(delay, Time));
}
