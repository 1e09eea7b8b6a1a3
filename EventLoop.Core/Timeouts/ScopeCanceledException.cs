namespace EventLoop;

#pragma warning disable CS0618 // derives from its obsolete former name for one release, so old catch clauses still match

/// <summary>
/// The <see cref="OperationCanceledException"/> a loop wait throws when a <see cref="CancelScope"/>
/// of its greenlet was canceled with <see cref="CancelScope.Cancel"/> (or by its <see cref="TaskScope"/>
/// when a child failed). <see cref="ScopeCancelledException.Scope"/> names that scope.
/// </summary>
public sealed class ScopeCanceledException : ScopeCancelledException
#pragma warning restore CS0618
{
    /// <summary>Creates the exception.</summary>
    public ScopeCanceledException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ScopeCanceledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ScopeCanceledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal ScopeCanceledException(CancelScope scope)
        : base(scope)
    {
    }
}
