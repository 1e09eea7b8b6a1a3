namespace EventLoop;

/// <summary>
/// The <see cref="TimeoutException"/> of the loop's one timeout rule: a loop wait throws it when a
/// <see cref="CancelScope"/> of its greenlet passed its deadline (<see cref="Loop.FailAfter"/>,
/// <see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>), naming that scope in <see cref="Scope"/>;
/// and a per-call <c>timeout</c> of a wait that yields a value, an item or a permit (a queue's
/// <c>GetAsync</c>/<c>PutAsync</c>, a semaphore's <c>AcquireAsync</c>, a result's <c>GetAsync</c>)
/// throws it with <see cref="Scope"/> null. A wait whose only result is "it happened"
/// (<c>LoopEvent.WaitAsync</c>) returns false instead.
/// </summary>
public sealed class LoopTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public LoopTimeoutException()
        : base("The operation timed out.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LoopTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LoopTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal LoopTimeoutException(CancelScope scope)
        : base($"The deadline of a cancel scope passed (at loop time {scope.Deadline}).")
    {
        Scope = scope;
    }

    /// <summary>The scope whose deadline passed, or null for a per-call timeout.</summary>
    public CancelScope? Scope { get; }
}
