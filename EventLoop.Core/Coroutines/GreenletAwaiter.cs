using System.Runtime.CompilerServices;

namespace EventLoop;

/// <summary>
/// Awaits a <see cref="Greenlet"/>; resumes through the awaiting code's context. Awaited by another
/// greenlet of the same loop, the await is a loop wait of that greenlet: its kill, <c>FailAfter</c>
/// and <c>MoveOnAfter</c> end it with their own exception, and the awaited greenlet keeps running.
/// </summary>
public readonly struct GreenletAwaiter : ICriticalNotifyCompletion
{
    private readonly Greenlet _greenlet;

    internal GreenletAwaiter(Greenlet greenlet)
    {
        _greenlet = greenlet;
    }

    /// <summary>True when the greenlet has finished.</summary>
    public bool IsCompleted => _greenlet.IsCompleted;

    /// <summary>Returns when the greenlet succeeded; rethrows its exception otherwise.</summary>
    public void GetResult() => _greenlet.ThrowIfFailedOrAwaitAborted();

    /// <inheritdoc />
    public void OnCompleted(Action continuation) => _greenlet.AddContinuation(continuation, flowExecutionContext: true);

    /// <inheritdoc />
    public void UnsafeOnCompleted(Action continuation) => _greenlet.AddContinuation(continuation, flowExecutionContext: false);
}

/// <summary>Awaits a <see cref="Greenlet{T}"/> and returns its value.</summary>
/// <typeparam name="T">The value type.</typeparam>
public readonly struct GreenletAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly Greenlet<T> _greenlet;

    internal GreenletAwaiter(Greenlet<T> greenlet)
    {
        _greenlet = greenlet;
    }

    /// <summary>True when the greenlet has finished.</summary>
    public bool IsCompleted => _greenlet.IsCompleted;

    /// <summary>Returns the value; rethrows the body's exception when it failed.</summary>
    /// <returns>The greenlet's value.</returns>
    public T GetResult() => _greenlet.GetResultOrThrow();

    /// <inheritdoc />
    public void OnCompleted(Action continuation) => _greenlet.AddContinuation(continuation, flowExecutionContext: true);

    /// <inheritdoc />
    public void UnsafeOnCompleted(Action continuation) => _greenlet.AddContinuation(continuation, flowExecutionContext: false);
}
