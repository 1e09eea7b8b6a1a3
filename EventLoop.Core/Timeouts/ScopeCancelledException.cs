namespace EventLoop;

/// <summary>
/// The <see cref="OperationCanceledException"/> a loop wait throws when a <see cref="CancelScope"/>
/// of its greenlet was cancelled with <see cref="CancelScope.Cancel"/> (or by its <see cref="TaskScope"/>
/// when a child failed).
/// </summary>
public sealed class ScopeCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public ScopeCancelledException()
        : base("The scope was cancelled.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ScopeCancelledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ScopeCancelledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal ScopeCancelledException(CancelScope scope)
        : base("The scope was cancelled.")
    {
        Scope = scope;
    }

    /// <summary>The scope that was cancelled, or null.</summary>
    public CancelScope? Scope { get; }
}
