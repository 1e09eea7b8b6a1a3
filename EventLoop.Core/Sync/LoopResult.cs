using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A value (or an exception) that arrives once and that many greenlets can wait for, like
/// gevent's <c>AsyncResult</c>. Loop-thread only; members throw <see cref="InvalidOperationException"/>
/// off the loop thread.
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class LoopResult<T>
{
    private readonly Loop _loop;
    private readonly WaitQueue<T> _waiters;
    private T? _value;
    private Exception? _exception;
    private bool _ready;

    /// <summary>Creates an empty result on <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    public LoopResult(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
        _waiters = new WaitQueue<T>(loop);
        _waiters.DescribeAs(this, "GetAsync");
    }

    /// <summary>True once a value or an exception was set.</summary>
    public bool IsReady => _ready;

    /// <summary>True once a value (not an exception) was set.</summary>
    public bool Succeeded => _ready && _exception is null;

    /// <summary>The exception that was set, or null.</summary>
    public Exception? Exception => _exception;

    /// <summary>The value; throws <see cref="InvalidOperationException"/> when not ready, or the exception that was set.</summary>
    public T Value
    {
        get
        {
            if (!_ready)
            {
                throw new InvalidOperationException("The result is not ready.");
            }

            Sync.ExceptionHelper.ThrowIfNotNull(_exception);
            return _value!;
        }
    }

    internal int WaiterCount => _waiters.Count;

    /// <summary>Sets the value and wakes every waiter, oldest first. Loop thread.</summary>
    /// <param name="value">The value.</param>
    /// <exception cref="InvalidOperationException">The result was already set.</exception>
    public void SetResult(T value)
    {
        MarkReady(nameof(SetResult));
        _value = value;
        _waiters.WakeAll(value);
    }

    /// <summary>Sets an exception that every waiter (and later ones) throw. Loop thread.</summary>
    /// <param name="exception">The exception.</param>
    /// <exception cref="InvalidOperationException">The result was already set.</exception>
    public void SetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        MarkReady(nameof(SetException));
        _exception = exception;
        _waiters.FailAll(exception);
    }

    /// <summary>
    /// Waits for the value. Allocation-free once warm when the token cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The value.</returns>
    /// <exception cref="LoopTimeoutException">The timeout passed first (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    public ValueTask<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(LoopResult<T>) + "." + nameof(GetAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (_ready)
        {
            return _exception is null ? new ValueTask<T>(_value!) : ValueTask.FromException<T>(_exception);
        }

        return _waiters.WaitAsync(cancellationToken, timeout);
    }

    /// <summary>Waits for the value; see <see cref="GetAsync(TimeSpan?, CancellationToken)"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The value.</returns>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken) => GetAsync(null, cancellationToken);

    private void MarkReady(string member)
    {
        _loop.VerifyAccess(nameof(LoopResult<T>) + "." + member);
        if (_ready)
        {
            throw new InvalidOperationException("The result was already set.");
        }

        _ready = true;
    }
}
