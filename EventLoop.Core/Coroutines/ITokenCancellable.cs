namespace EventLoop.Coroutines;

/// <summary>A loop wait that a <see cref="CancellationToken"/> can cancel (see <see cref="TokenRegistration"/>).</summary>
internal interface ITokenCancellable
{
    /// <summary>The loop the wait belongs to: the token's callback hops to it.</summary>
    Loop TokenLoop { get; }

    /// <summary>
    /// Cancels the wait numbered <paramref name="version"/> if it is still pending; a later wait
    /// of the same pooled object is left alone. Loop thread.
    /// </summary>
    void CancelFromToken(short version, CancellationToken token);
}
