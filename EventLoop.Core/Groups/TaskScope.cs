using EventLoop.Coroutines;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A structured-concurrency scope, like trio's nursery or asyncio's <c>TaskGroup</c>: children
/// spawned into it cannot outlive it. When a child fails, the other children are killed and the
/// scope's body (the loop waits of the greenlet that opened the scope) is cancelled with
/// <see cref="ScopeCanceledException"/>. Ending the scope waits for every child, then rethrows
/// the failures: one as it was thrown, several as an <see cref="AggregateException"/>. Children
/// that were killed are not failures. The children are a <see cref="GreenletGroup"/>, the engine
/// every set of greenlets uses; the scope adds the cancellation and the failures. Loop-thread only.
/// </summary>
/// <remarks>
/// <para>
/// The scope owns its children's failures, like trio's nursery and asyncio's <c>TaskGroup</c>: a
/// failure it rethrows is not also sent to <see cref="LoopOptions.UnhandledException"/>. Only when
/// the scope cannot rethrow it does a child's failure go to that handler, once: when the greenlet
/// ending the scope is killed or reaches a deadline while it waits (the scope rethrows that error),
/// when the body is detached before it ends the scope (see <see cref="Greenlet.Kill"/>), or when the
/// greenlet that opened the scope ends without ending it (its children are killed then).
/// </para>
/// <para>
/// Preferred form: <c>await loop.RunScopeAsync(async scope => { scope.Spawn(...); ... })</c>: an
/// exception from the body kills the children too and is rethrown with theirs.
/// </para>
/// <para>
/// <c>await using var scope = loop.OpenTaskScope();</c> also works, but C# does not tell
/// <see cref="DisposeAsync"/> that the body threw: write <c>catch { scope.Cancel(); throw; }</c>
/// or the children are waited for, not killed. A child failure still interrupts the body's loop waits.
/// </para>
/// </remarks>
public sealed class TaskScope : IAsyncDisposable
{
    private readonly Loop _loop;
    private readonly GreenletGroup _children;
    private readonly ChildListener _childListener;
    private readonly CancelScope? _bodyScope;
    private TaskCompletionSource? _allDoneTask;
    private List<Exception>? _failures;
    private List<Greenlet>? _failedChildren; // whose failures are among _failures, for DropFailures
    private bool _closed;

    // Set once the scope can no longer rethrow what it records (its end was interrupted, or the
    // body that was to end it was detached): a child's failure goes to the loop's handler then.
    private bool _failuresDropped;

    private TaskScope(Loop loop)
    {
        _loop = loop;
        _children = new GreenletGroup(loop);
        _childListener = new ChildListener(this);
        if (loop.CurrentGreenlet is not null)
        {
            _bodyScope = new CancelScope(loop, null) { OwnerTaskScope = this };
        }
    }

    /// <summary>Children still running.</summary>
    public int Count => _children.Count;

    /// <summary>True once a child failed or <see cref="Cancel"/> was called.</summary>
    public bool IsCanceled { get; private set; }

    /// <summary>Obsolete spelling of <see cref="IsCanceled"/>.</summary>
    [Obsolete("Use IsCanceled; this forwarder goes in the next release.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public bool IsCancelled => IsCanceled;

    /// <summary>Opens a scope; see <see cref="Loop.OpenTaskScope"/>. Loop thread.</summary>
    /// <param name="loop">The loop.</param>
    /// <returns>The scope; <c>await using</c> it.</returns>
    public static TaskScope Create(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        loop.VerifyAccess(nameof(TaskScope) + "." + nameof(Create));
        return new TaskScope(loop);
    }

    /// <summary>
    /// Runs <paramref name="body"/> with a new scope and ends the scope when it returns: waits
    /// for every child, and rethrows the failures (the body's exception included). Loop thread.
    /// </summary>
    /// <param name="loop">The loop.</param>
    /// <param name="body">The scope body; spawns children with <see cref="Spawn(Func{Task})"/>.</param>
    /// <returns>A task that completes when the body and every child have finished.</returns>
    public static async Task RunAsync(Loop loop, Func<TaskScope, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        TaskScope scope = Create(loop);
        try
        {
            await body(scope).ConfigureAwait(true);
        }
        catch (Exception ex)
        {
            // The body's own failure; its interruption because a child failed is not one.
            if (ex is not ScopeCanceledException cancelled || !ReferenceEquals(cancelled.Scope, scope._bodyScope))
            {
                scope.Fail(ex);
            }
        }

        await scope.DisposeAsync().ConfigureAwait(true);
    }

    /// <summary>Spawns a child. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The child greenlet.</returns>
    /// <exception cref="InvalidOperationException">The scope has ended.</exception>
    public Greenlet Spawn(Func<Task> body) => Track(_loop.Spawn(CheckOpen(body)));

    /// <summary>Spawns a child whose body receives its kill token. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The child greenlet.</returns>
    public Greenlet Spawn(Func<CancellationToken, Task> body) => Track(_loop.Spawn(CheckOpen(body)));

    /// <summary>Spawns a child producing a value. Loop thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The child greenlet.</returns>
    public Greenlet<T> Spawn<T>(Func<Task<T>> body) => Track(_loop.Spawn(CheckOpen(body)));

    /// <summary>Kills every child and cancels the body's loop waits; the scope ends without a failure of its own. Loop thread.</summary>
    public void Cancel()
    {
        _loop.VerifyAccess(nameof(TaskScope) + "." + nameof(Cancel));
        CancelAll();
    }

    /// <summary>
    /// Ends the scope: waits for every child, then rethrows the failures. If the waiting greenlet
    /// is killed (or an outer cancel scope fires) meanwhile, the children are killed, still waited
    /// for, and that error is rethrown; the children's failures then go to
    /// <see cref="LoopOptions.UnhandledException"/>. Loop thread.
    /// </summary>
    /// <returns>A ValueTask that completes when every child has finished.</returns>
    public async ValueTask DisposeAsync()
    {
        _loop.VerifyAccess(nameof(TaskScope) + "." + nameof(DisposeAsync));
        if (_closed)
        {
            return;
        }

        _bodyScope?.Dispose(); // its cancellation was for the body, not for this wait
        try
        {
            // A child may spawn a sibling between the join's wake-up and this continuation: the
            // scope ends only when none is left, so no child outlives it.
            do
            {
                await _children.JoinAsync().ConfigureAwait(true);
            }
            while (_children.Count > 0);
        }
        catch
        {
            CancelAll();
            if (_children.Count > 0)
            {
                // Not a loop wait: a killed greenlet cannot start loop waits, yet must not leave
                // orphans. The children are killed, so the loop ends this wait; a second kill
                // must not detach the greenlet before they have ended.
                _allDoneTask ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Greenlet? waiting = _loop.CurrentGreenlet;
                waiting?.ShieldFromDetach();
                try
                {
                    await _allDoneTask.Task.ConfigureAwait(true);
                }
                finally
                {
                    waiting?.EndDetachShield();
                }
            }

            _closed = true;
            DropFailures(); // this error is rethrown instead
            throw;
        }

        _closed = true;
        ExceptionHelper.ThrowFailures(_failures);
    }

    /// <summary>
    /// The greenlet that opened the scope left it without ending it: it was ended (killed, or its
    /// deadline passed) while its body awaited something the loop does not own, so the body is
    /// detached and may never reach <see cref="DisposeAsync"/>, or its body returned without
    /// ending the scope. The children must not outlive the greenlet. Loop thread.
    /// </summary>
    internal void OnBodyLeft()
    {
        IsCanceled = true;
        DropFailures(); // the body will not end the scope: nothing rethrows them
        _children.KillAll();
    }

    /// <summary>A child completed (the group has removed it already, and wakes its joiners after this).</summary>
    private void OnChildCompleted(Greenlet child)
    {
        if (child.Failed)
        {
            if (_failuresDropped)
            {
                _loop.ReportGreenletFailure(child, child.Exception!);
            }
            else
            {
                (_failedChildren ??= []).Add(child);
                Fail(child.Exception!);
            }
        }

        if (_children.Count == 0)
        {
            _allDoneTask?.TrySetResult();
        }
    }

    private void Fail(Exception error)
    {
        (_failures ??= []).Add(error);
        CancelAll();
    }

    /// <summary>
    /// The scope will not rethrow its failures: the children's go to the loop's handler (each
    /// once, now or when it happens), as they would for a greenlet nobody owns. The body's own
    /// exception is not a greenlet's failure: it is dropped with the body's outcome.
    /// </summary>
    private void DropFailures()
    {
        _failuresDropped = true;
        if (_failedChildren is null)
        {
            return;
        }

        foreach (Greenlet child in _failedChildren)
        {
            _loop.ReportGreenletFailure(child, child.Exception!);
        }

        _failedChildren = null;
        _failures = null;
    }

    private void CancelAll()
    {
        IsCanceled = true;
        _children.KillAll();

        if (_bodyScope is not null && !_closed)
        {
            _bodyScope.Trigger(new ScopeCanceledException(_bodyScope));
        }
    }

    private TBody CheckOpen<TBody>(TBody body)
        where TBody : class
    {
        ArgumentNullException.ThrowIfNull(body);
        _loop.VerifyAccess(nameof(TaskScope) + "." + nameof(Spawn));
        if (_closed)
        {
            throw new InvalidOperationException("The scope has ended; it cannot take new children.");
        }

        return body;
    }

    private TGreenlet Track<TGreenlet>(TGreenlet greenlet)
        where TGreenlet : Greenlet
    {
        greenlet.MarkFailureRaisedByOwner(); // the scope rethrows it, or reports it when it cannot

        if (IsCanceled)
        {
            greenlet.Kill(); // a cancelled scope starts nothing new
        }

        if (!greenlet.IsCompleted)
        {
            _children.Add(greenlet, _childListener);
        }

        return greenlet;
    }

    private sealed class ChildListener(TaskScope scope) : IGreenletListener
    {
        public void OnGreenletCompleted(Greenlet greenlet) => scope.OnChildCompleted(greenlet);
    }
}
