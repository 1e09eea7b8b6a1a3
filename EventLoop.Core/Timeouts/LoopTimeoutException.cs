namespace EventLoop;

/// <summary>
/// The <see cref="TimeoutException"/> a loop wait throws when a <see cref="CancelScope"/> of its
/// greenlet passed its deadline (<see cref="Loop.FailAfter"/>, <see cref="Loop.MoveOnAfter(TimeSpan)"/>).
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

    /// <summary>The scope whose deadline passed, or null.</summary>
    public CancelScope? Scope { get; }
}
