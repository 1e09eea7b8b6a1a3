namespace EventLoop.Coroutines;

/// <summary>
/// A pooled loop wait's registration on a <see cref="CancellationToken"/>. The callback's state
/// names which wait it cancels (a late callback must not cancel a later wait of the same pooled
/// object), and that state object is reused once <see cref="CancellationTokenRegistration.Unregister"/>
/// proves no callback holds it: a warm wait with a token allocates nothing. The callback may run
/// on any thread; it hops to the loop. A mutable struct: keep it in a field, never copy it.
/// </summary>
internal struct TokenRegistration
{
    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) =>
    {
        var armed = (Armed)state!;
        ITokenCancellable target = armed.Target;
        short version = armed.Version;
        Loop loop = target.TokenLoop;
        if (!loop.TryRunHere(static s => s.Target.CancelFromToken(s.Version, s.Token), (Target: target, Version: version, Token: token)))
        {
            loop.Enqueue(
                static s => { var (t, v, c) = ((ITokenCancellable, short, CancellationToken))s!; t.CancelFromToken(v, c); },
                (target, version, token),
                null);
        }
    };

    // The registration's state while registered, kept afterwards for reuse when Unregister proved
    // that no callback holds it: one field, so a pooled wait without a token carries 8 bytes.
    private Armed? _armed;

    /// <summary>
    /// Registers wait <paramref name="version"/> of <paramref name="wait"/> on <paramref name="token"/>,
    /// unless the token cannot be canceled or is the kill token of the greenlet the wait is linked
    /// to: <see cref="Greenlet.Kill"/> aborts that greenlet's waits anyway, and skipping the
    /// registration saves the token's callback node per wait. Call after linking the wait.
    /// </summary>
    public void Register<TWait>(CancellationToken token, TWait wait, short version)
        where TWait : LoopWait, ITokenCancellable
    {
        if (!token.CanBeCanceled || wait.WaitOwner?.OwnsToken(token) == true)
        {
            return;
        }

        Armed armed = _armed ?? new Armed(wait);
        _armed = armed;
        armed.Version = version;
        armed.IsRegistered = true;
        armed.Registration = token.UnsafeRegister(s_onCancel, armed);
    }

    /// <summary>Unregisters, if registered; idempotent.</summary>
    public void Release()
    {
        if (_armed is not { IsRegistered: true } armed)
        {
            return;
        }

        armed.IsRegistered = false;

        // False when the callback ran, is running, or ran inside UnsafeRegister (the token was
        // already cancelled): its state may still be read, so it is not reused.
        if (!armed.Registration.Unregister())
        {
            _armed = null;
        }

        armed.Registration = default;
    }

    private sealed class Armed(ITokenCancellable target)
    {
        public ITokenCancellable Target { get; } = target;

        public short Version { get; set; }

        public bool IsRegistered { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
