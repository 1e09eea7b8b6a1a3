using EventLoop.Internal;

namespace EventLoop;

/// <summary>
/// A cancel scope of one greenlet, like trio's <c>CancelScope</c> or <c>gevent.Timeout</c>: while it
/// is active (until <see cref="Dispose"/>), once it is cancelled — by its deadline
/// (<see cref="Loop.FailAfter"/>, <see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>) or by <see cref="Cancel"/> —
/// every loop wait of that greenlet (sleep, queue get, lock, socket wait: anything that is a loop wait)
/// that is pending, or that starts later, throws: <see cref="LoopTimeoutException"/> for a deadline,
/// <see cref="ScopeCanceledException"/> for <see cref="Cancel"/>. No token has to be passed by hand.
/// </summary>
/// <remarks>
/// <para>
/// Scopes nest. The one whose deadline comes first fires first, so the earliest deadline wins;
/// when several have fired, waits throw the error of the outermost one, so that the code
/// unwinds straight to it and the inner scopes do not swallow it. Use <see cref="IsOwnError"/>
/// (or <see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>) to catch only this scope's error.
/// </para>
/// <para>
/// Loop waits that a library starts on the greenlet's behalf (HttpClient over <c>LoopHttp</c>, a
/// <c>StreamReader</c> over a connection's stream, a thread-pool continuation that hands work to the
/// loop) are the greenlet's too: the greenlet flows with the <see cref="ExecutionContext"/>. An await
/// of something that is not a loop wait (a <see cref="Task"/> the loop does not own) cannot be
/// interrupted: if the scope's deadline passes while the greenlet is suspended in one, the greenlet
/// is completed as killed on the next iteration and its body detached (its <c>finally</c> blocks run
/// when that task completes; see <see cref="Greenlet.Kill"/>), except under
/// <see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>, which abandons its body and moves on;
/// <see cref="Cancel"/> only cancels <see cref="Token"/> there. Pass <see cref="Token"/> to such awaits to end them at the deadline
/// or on <see cref="Cancel"/> instead. Loop-thread only; create and dispose it in the same greenlet.
/// </para>
/// </remarks>
public sealed class CancelScope : IDisposable
{
    private static readonly Action<object?> s_onDeadline = static s => ((CancelScope)s!).OnDeadline();

    // The MoveOnAfter scope whose body the running code belongs to, flowing with the body's
    // ExecutionContext: once the scope abandoned its body, the body's later loop waits fail at once.
    private static readonly AsyncLocal<CancelScope?> s_moveOnBody = new();

    private readonly Loop _loop;
    private readonly Greenlet _greenlet;
    private readonly TimerHandle? _timer;
    private CancelScope? _parent;
    private Exception? _error;
    private CancellationTokenSource? _cts;
    private CancellationToken _token; // the Token handed out, kept after Dispose for IsOwnError and Token
    private bool _active;
    private TaskCompletionSource? _abandon; // MoveOnAfter: completed with the scope's error to move on from a body in a foreign await
    private CancelScope? _enclosingMoveOn; // the MoveOnAfter scope this one's body runs in, if any
    private bool _abandoned;

    /// <summary>The task scope whose body this scope cancels, if any: its children are killed when the greenlet's body is detached.</summary>
    internal TaskScope? OwnerTaskScope;

    internal CancelScope(Loop loop, TimeSpan? delay)
    {
        loop.VerifyAccess(nameof(CancelScope));
        _loop = loop;
        _greenlet = loop.CurrentGreenlet ?? throw new InvalidOperationException(
            "A cancel scope applies to the loop waits of a greenlet; open it inside one (for example inside Loop.Run(main) or a spawned greenlet).");
        if (delay is { } d && d != Timeout.InfiniteTimeSpan)
        {
            if (d < TimeSpan.Zero)
            {
                ThrowHelper.ThrowNegativeDelay(nameof(delay), d);
            }

            // Not a Direct timer: firing may cancel Token, which runs user callbacks.
            _timer = new TimerHandle(loop) { Callback = s_onDeadline, State = this };
            loop.ScheduleTimer(_timer, d);
            Deadline = _timer.When; // the timer's own deadline, saturated: Now + TimeSpan.MaxValue would overflow
        }

        _parent = _greenlet.CancelScopes;
        _greenlet.CancelScopes = this;
        _active = true;
    }

    /// <summary>The loop time (see <see cref="Loop.Now"/>) at which the scope expires, or null.</summary>
    public TimeSpan? Deadline { get; }

    /// <summary>True once the deadline passed or <see cref="Cancel"/> was called.</summary>
    public bool IsCancellationRequested => _error is not null;

    /// <summary>True when the deadline (not <see cref="Cancel"/>) cancelled the scope.</summary>
    public bool TimedOut => _error is LoopTimeoutException;

    /// <summary>
    /// True once a helper (<see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>) or <see cref="IsOwnError"/>
    /// caught this scope's error, like trio's <c>cancelled_caught</c>.
    /// </summary>
    public bool CanceledCaught { get; private set; }

    /// <summary>Obsolete spelling of <see cref="CanceledCaught"/>.</summary>
    [Obsolete("Use CanceledCaught; this forwarder goes in the next release.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public bool CancelledCaught => CanceledCaught;

    /// <summary>The greenlet the scope applies to.</summary>
    public Greenlet Greenlet => _greenlet;

    /// <summary>
    /// A token cancelled when the scope is cancelled, for waits that are not loop waits. Its source
    /// is created on the first read while the scope is active, and disposed with the scope. Loop thread.
    /// </summary>
    /// <remarks>
    /// After <see cref="Dispose"/> the scope can no longer be cancelled, and reading the token
    /// creates nothing: it returns the token handed out before, if any (cancelled when the scope
    /// was; registering on it still works, its <see cref="CancellationToken.WaitHandle"/> does not,
    /// since its source is disposed); else a token that shows the scope's final state, already
    /// cancelled when the scope was cancelled, otherwise <see cref="CancellationToken.None"/>.
    /// Unlike <see cref="CancellationTokenSource.Token"/>, it does not throw
    /// <see cref="ObjectDisposedException"/>: like trio's cancel scope, the scope's state stays
    /// readable after it was left.
    /// </remarks>
    public CancellationToken Token
    {
        get
        {
            if (!_active)
            {
                return _token.CanBeCanceled ? _token : new CancellationToken(_error is not null);
            }

            if (_cts is null)
            {
                _cts = new CancellationTokenSource();
                _token = _cts.Token;
                if (_error is not null)
                {
                    _cts.Cancel();
                }
            }

            return _cts.Token;
        }
    }

    /// <summary>Cancels the scope now: pending and later loop waits of the greenlet throw <see cref="ScopeCanceledException"/>. Idempotent. Loop thread.</summary>
    public void Cancel()
    {
        _loop.VerifyAccess(nameof(CancelScope) + "." + nameof(Cancel));
        Trigger(new ScopeCanceledException(this));
    }

    /// <summary>
    /// True when <paramref name="exception"/> is this scope's own error (not an outer scope's,
    /// not a kill), or wraps it as an inner exception; marks <see cref="CanceledCaught"/>. For <c>catch (...) when (scope.IsOwnError(ex))</c>.
    /// The cancellation of an await that was given <see cref="Token"/> counts once the scope was cancelled.
    /// </summary>
    /// <param name="exception">The exception caught.</param>
    /// <returns>True when this scope raised it.</returns>
    public bool IsOwnError(Exception exception)
    {
        bool own = false;
        for (Exception? e = exception; e is not null && !own; e = e.InnerException)
        {
            // A library that wraps what a loop wait threw (HttpClient's HttpRequestException,
            // an IOException) still carries this scope's error inside.
            own = e switch
            {
                LoopTimeoutException t => ReferenceEquals(t.Scope, this),
                ScopeCanceledException c => ReferenceEquals(c.Scope, this),
                OperationCanceledException o => _error is not null && _token.CanBeCanceled && o.CancellationToken == _token,
                _ => false,
            };
        }

        if (own)
        {
            CanceledCaught = true;
        }

        return own;
    }

    /// <summary>Leaves the scope: its deadline no longer applies. Idempotent. Loop thread, same greenlet.</summary>
    public void Dispose()
    {
        if (!_active)
        {
            return;
        }

        _loop.VerifyAccess(nameof(CancelScope) + "." + nameof(Dispose));
        _active = false;
        _timer?.Cancel();
        // Usually the innermost; a scope disposed out of order is unlinked from the middle.
        if (ReferenceEquals(_greenlet.CancelScopes, this))
        {
            _greenlet.CancelScopes = _parent;
        }
        else
        {
            for (CancelScope? s = _greenlet.CancelScopes; s is not null; s = s._parent)
            {
                if (ReferenceEquals(s._parent, this))
                {
                    s._parent = _parent;
                    break;
                }
            }
        }

        _parent = null;
        _cts?.Dispose();
        _cts = null;
    }

    /// <summary>The error a wait of the greenlet must fail with: the outermost cancelled active scope's, or null.</summary>
    internal Exception? PendingError()
    {
        Exception? error = null;
        for (CancelScope? s = this; s is not null; s = s._parent)
        {
            error = s._error ?? error;
        }

        return error;
    }

    internal void Trigger(Exception error, bool detachForeignAwait = false)
    {
        if (_error is not null || !_active)
        {
            return;
        }

        _error = error;
        int aborted = 0;
        if (_greenlet.CancelScopes?.PendingError() is { } pending && !_greenlet.IsCompleted)
        {
            aborted = _greenlet.AbortWaits(pending);
        }

        try
        {
            _cts?.Cancel();
        }
        catch (AggregateException ex)
        {
            _loop.ReportUnhandled(ex, _greenlet);
        }

        if (detachForeignAwait && (aborted == 0 || _abandon is not null) && !_greenlet.IsCompleted)
        {
            // A deadline, and no loop wait of the greenlet was pending: unless it is about to run,
            // it is suspended in an await the loop does not own, which nothing here can interrupt.
            // (A Cancel is left to the token: a TaskScope cancels its body while the body may be
            // awaiting children that are still unwinding.)
            _greenlet.ArmDetachCheck(this);
        }
    }

    /// <summary>True while the scope is active and has been cancelled (its error is pending for the greenlet's waits).</summary>
    internal bool HasFiredWhileActive => _active && _error is not null;

    /// <summary>This scope or the nearest enclosing one that <see cref="HasFiredWhileActive"/>, or null.</summary>
    internal CancelScope? FirstFired()
    {
        for (CancelScope? s = this; s is not null; s = s._parent)
        {
            if (s.HasFiredWhileActive)
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>
    /// The error a loop wait fails with when it is started by a body that a <c>MoveOnAfter</c>
    /// abandoned (the running code's flow carries that scope), or null. Reads the flow only when
    /// the greenlet ever abandoned a body.
    /// </summary>
    internal static Exception? AbandonedBodyError()
    {
        for (CancelScope? s = s_moveOnBody.Value; s is not null; s = s._enclosingMoveOn)
        {
            if (s._abandoned)
            {
                return s._error;
            }
        }

        return null;
    }

    /// <summary>
    /// <c>MoveOnAfter</c>: runs <paramref name="body"/> as this scope's body and waits for it. The
    /// wait for a body that is still running goes through a task this scope can complete, so a
    /// body left in an await the loop does not own at the deadline is abandoned (the wait throws
    /// the scope's error) rather than the greenlet being ended.
    /// </summary>
    internal async Task RunBodyAsync(Func<Task> body)
    {
        _enclosingMoveOn = s_moveOnBody.Value;
        s_moveOnBody.Value = this; // flows into the body only: restored when this method returns
        Task task = body();
        if (!task.IsCompleted)
        {
            _abandon = new TaskCompletionSource();
            Task first = await Task.WhenAny(task, _abandon.Task).ConfigureAwait(true);
            if (!ReferenceEquals(first, task))
            {
                _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default); // its outcome is dropped
                throw _error!;
            }
        }

        await task.ConfigureAwait(true);
    }

    /// <summary>
    /// Leaves the scope for a body that was detached, or ended, without leaving it itself: a task scope's
    /// children are killed (they must not outlive the body that was to wait for them), then the
    /// scope is disposed (its deadline no longer applies to anything). Loop thread.
    /// </summary>
    internal void LeaveDetached()
    {
        OwnerTaskScope?.OnBodyLeft();
        Dispose();
    }

    /// <summary>Abandons the body of a fired <c>MoveOnAfter</c> that waits in a foreign await; false for other scopes. Loop thread.</summary>
    internal bool TryAbandonBody()
    {
        if (_abandon is null || _error is null || _abandoned || !_active)
        {
            return false;
        }

        _abandoned = true;

        // Scopes inside this one were opened by the abandoned body, which may never leave them:
        // their deadlines and cancellations must not reach the greenlet that moves on, and a
        // task scope's children must not outlive the body that was to wait for them.
        _greenlet.LeaveScopesAbove(this);

        _abandon.TrySetResult();
        return true;
    }

    private void OnDeadline() => Trigger(new LoopTimeoutException(this), detachForeignAwait: true);
}
