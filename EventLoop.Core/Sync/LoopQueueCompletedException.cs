namespace EventLoop;

/// <summary>Thrown by a get from a completed, drained <see cref="LoopQueue{T}"/> and by a put into a completed one.</summary>
public sealed class LoopQueueCompletedException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public LoopQueueCompletedException()
        : base("The queue was completed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LoopQueueCompletedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LoopQueueCompletedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
