using System.Runtime.ExceptionServices;

namespace EventLoop;

/// <summary>A greenlet whose body produces a value.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class Greenlet<T> : Greenlet
{
    private T? _value;

    internal Greenlet(Loop loop, object body)
        : base(loop, body)
    {
    }

    /// <summary>
    /// The value the body returned. Throws <see cref="InvalidOperationException"/> while the
    /// greenlet runs, and rethrows the body's own exception when it failed or was killed.
    /// </summary>
    public T Value
    {
        get
        {
            ThrowIfFailed();
            return _value!;
        }
    }

    /// <summary>A task that completes with the greenlet's value (cancelled when it was killed).</summary>
    public new Task<T> Task => ((TaskCompletionSource<T>)EnsureTaskSource()).Task;

    /// <summary>Gets an awaiter; <c>await greenlet</c> returns the value or rethrows the body's exception.</summary>
    /// <returns>The awaiter.</returns>
    public new GreenletAwaiter<T> GetAwaiter() => new(this);

    internal override Task InvokeBody(object body) => body switch
    {
        Func<Task<T>> f => f(),
        Func<CancellationToken, Task<T>> f => f(Token),
        _ => base.InvokeBody(body),
    };

    internal override void OnBodySucceeded(Task task)
    {
        if (task is Task<T> typed)
        {
            _value = typed.Result;
        }
    }

    private protected override object CreateTaskSource() =>
        new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);

    private protected override Task TaskFromSource(object source) => ((TaskCompletionSource<T>)source).Task;

    private protected override void CompleteTaskSource(object source)
    {
        var tcs = (TaskCompletionSource<T>)source;
        Exception? error = Exception;
        if (error is null)
        {
            tcs.TrySetResult(_value!);
        }
        else if (EndedByKill)
        {
            tcs.TrySetCanceled(((OperationCanceledException)error).CancellationToken);
        }
        else
        {
            tcs.TrySetException(error);
        }
    }

    internal T GetResultOrThrow()
    {
        if (!IsCompleted)
        {
            ThrowIfFailedOrAwaitAborted(); // an await ended by the awaiter's kill or cancel scope
        }

        if (Exception is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        return _value!;
    }
}
