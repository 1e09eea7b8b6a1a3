using System.Diagnostics;
using System.Threading.Tasks.Sources;
using EventLoop.Coroutines;
using EventLoop.Internal;

namespace EventLoop;

/// <summary>
/// A reusable <see cref="IValueTaskSource{TResult}"/> for one loop wait at a time, with the kill,
/// deadline and token behaviour of the loop's own waits: the base of sleeps, of the waits of the
/// coordination primitives, of socket operations, and of any driver written outside this library.
/// </summary>
/// <remarks>
/// <para>
/// The lifecycle, the same for every wait: the owner calls <see cref="Begin"/>, which links the
/// wait to the greenlet running now (so <see cref="Greenlet.Kill"/>, <c>FailAfter</c> and
/// <c>MoveOnAfter</c> abort it without any token passed) and registers it on the token. When
/// <see cref="Begin"/> returns true the owner arms whatever will complete it (a readiness watch,
/// a timer, a slot in a queue) and hands out <c>new ValueTask&lt;TResult&gt;(this, Version)</c>.
/// The first of <see cref="TrySetResult"/>, <see cref="TrySetException"/>, a kill, a deadline or
/// the token completes it; later ones return false and change nothing, so a result handed over
/// beats a cancellation that arrives after it. On completion <see cref="OnCompleting"/> runs
/// (disarm the driver), then the awaiting continuation is queued on the loop (never run inline,
/// and no allocation). The awaiter's <c>GetResult</c> takes the outcome, invalidates the
/// <see cref="Version"/> (a second await throws) and calls <see cref="OnResultTaken"/>, where a
/// pooled source goes back to its pool. Once warm, a wait allocates nothing, with or without a token.
/// </para>
/// <para>
/// Failures: a kill completes the wait with the greenlet's <see cref="OperationCanceledException"/>,
/// a cancel scope's deadline with <see cref="LoopTimeoutException"/> (or the scope's own
/// exception), the token with <see cref="OperationCanceledException"/> for that token.
/// </para>
/// <para>
/// Loop-thread only, like the loop's other waits; the token callback may fire on any thread and
/// hops to the loop by itself.
/// </para>
/// </remarks>
/// <typeparam name="TResult">What the wait produces.</typeparam>
public abstract class LoopWaitSource<TResult> : LoopWait, IValueTaskSource<TResult>, IValueTaskSource, ITokenCancellable
{
    private LoopValueTaskSourceCore<TResult> _core;
    private TokenRegistration _registration;

    /// <summary>Creates a source whose waits run on <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop the waits belong to.</param>
#pragma warning disable RS0022 // by design: LoopWait is open to derivation only through this class, the public extension point
    protected LoopWaitSource(Loop loop)
#pragma warning restore RS0022
        : base(loop)
    {
    }

    /// <summary>The current wait's token: wrap it with the source in a <see cref="ValueTask{TResult}"/>.</summary>
    public short Version => _core.Version;

    /// <summary>True between a <see cref="Begin"/> that returned true and the wait's completion.</summary>
    public bool IsPending => _core.IsPending;

    /// <summary>
    /// Starts a new wait: invalidates the previous wait's <see cref="Version"/>, links the wait to the
    /// greenlet running now and registers it on <paramref name="cancellationToken"/>. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; the running greenlet's kill token needs no registration.</param>
    /// <returns>
    /// True when the wait is pending: arm what will complete it now. False when it has already
    /// completed (the greenlet was killed, its scope's deadline passed, or the token is canceled):
    /// arm nothing. Either way hand out a ValueTask over this source and <see cref="Version"/>.
    /// </returns>
    /// <exception cref="InvalidOperationException">
    /// A wait of this source is still pending, or completed and its outcome not yet taken (start the
    /// next wait once <see cref="OnResultTaken"/> ran), or called from another thread while the loop runs.
    /// </exception>
    protected bool Begin(CancellationToken cancellationToken)
    {
        // Checked in Release builds too: these three are what a driver written elsewhere calls,
        // and from another thread they would race the loop on the wait's state (and link the
        // wait to whichever greenlet the loop runs at that moment) instead of failing.
        Loop.VerifyThread("LoopWaitSource.Begin");
        Debug.Assert(Loop.CheckAccess(), "Begin off the loop thread");
        if (_core.IsPending)
        {
            ThrowHelper.ThrowInvalidOperation("A wait of this source is already pending.");
        }

        if (_core.IsCompleted)
        {
            // Resetting now would drop the outcome its awaiter is about to take (it would read
            // "already awaited"): start the next wait from OnResultTaken on, or use another source.
            ThrowHelper.ThrowInvalidOperation("The previous wait of this source completed, but its awaiter has not taken the outcome yet.");
        }

        _core.Reset();
        Exception? abort = AttachToCurrentGreenlet();
        if (abort is not null)
        {
            _core.SetException(Loop, abort);
            return false;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            Detach();
            _core.SetException(Loop, new OperationCanceledException(cancellationToken));
            return false;
        }

        _core.IsPending = true;

        // Last: a token canceled by another thread meanwhile runs the callback right here.
        _registration.Register(cancellationToken, this, _core.Version);
        return _core.IsPending;
    }

    /// <summary>Completes the pending wait with <paramref name="result"/>. Loop thread.</summary>
    /// <param name="result">The result the awaiter receives.</param>
    /// <returns>False when no wait was pending (it completed already): nothing changed.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs: hop with <see cref="Loop.RunOrPost"/>.</exception>
    public bool TrySetResult(TResult result)
    {
        Loop.VerifyThread("LoopWaitSource.TrySetResult");
        if (!_core.IsPending)
        {
            return false;
        }

        Settle();
        _core.SetResult(Loop, result);
        return true;
    }

    /// <summary>Completes the pending wait with <paramref name="error"/>, which the awaiter throws. Loop thread.</summary>
    /// <param name="error">The exception; an <see cref="OperationCanceledException"/> makes the ValueTask canceled.</param>
    /// <returns>False when no wait was pending (it completed already): nothing changed.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs: hop with <see cref="Loop.RunOrPost"/>.</exception>
    public bool TrySetException(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Loop.VerifyThread("LoopWaitSource.TrySetException");
        if (!_core.IsPending)
        {
            return false;
        }

        Settle();
        _core.SetException(Loop, error);
        return true;
    }

    /// <summary>
    /// Called once when the pending wait completes, whichever way (result, error, kill, deadline,
    /// token), before its continuation is queued: disarm what <see cref="Begin"/>'s caller armed
    /// (take the wait out of a watch's slot, cancel a timer). Loop thread. It should not throw: an
    /// exception goes to the loop's unhandled-exception handler, and the wait completes anyway.
    /// </summary>
    protected virtual void OnCompleting()
    {
    }

    /// <summary>
    /// Called after the awaiter took the outcome and <see cref="Version"/> moved on: the source may
    /// start its next wait; return it to its pool here and drop buffers. Loop thread.
    /// </summary>
    protected virtual void OnResultTaken()
    {
    }

    internal sealed override void Abort(Exception error) => TrySetException(error);

    Loop ITokenCancellable.TokenLoop => Loop;

    void ITokenCancellable.CancelFromToken(short version, CancellationToken token)
    {
        if (version == _core.Version)
        {
            TrySetException(new OperationCanceledException(token));
        }
    }

    private void Settle()
    {
        Greenlet? owner = WaitOwner;
        _core.IsPending = false;
        Detach();
        _registration.Release();
        try
        {
            OnCompleting();
        }
        catch (Exception ex)
        {
            // A driver's bug must not leave the awaiter suspended forever (a kill that never
            // ends its greenlet) nor surface in whoever killed it: the wait still completes.
            Loop.ReportUnhandled(ex, owner);
        }
    }

    /// <inheritdoc/>
    ValueTaskSourceStatus IValueTaskSource<TResult>.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    void IValueTaskSource<TResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(Loop, continuation, state, token, flags);

    /// <inheritdoc/>
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(Loop, continuation, state, token, flags);

    /// <inheritdoc/>
    TResult IValueTaskSource<TResult>.GetResult(short token) => TakeResult(token);

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => TakeResult(token);

    private TResult TakeResult(short token)
    {
        TResult? result = _core.TakeResult(token, out Exception? error);
        _core.Reset(); // invalidates the token before the source can be handed out again
        OnResultTaken();
        LoopValueTaskSourceCore<TResult>.ThrowIfError(error);
        return result!;
    }
}
