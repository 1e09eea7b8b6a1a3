using EventLoop.Internal;

namespace EventLoop.Sync;

/// <summary>
/// The FIFO list of greenlets waiting on one primitive, plus the pool of free waiter nodes that
/// makes a warm wait allocation-free. Intrusive doubly linked list: a canceled waiter unlinks
/// itself in O(1), so waits that are abandoned never pile up. Loop-thread only.
/// </summary>
/// <typeparam name="T">The value a wait produces.</typeparam>
internal sealed class WaitQueue<T>(Loop loop)
{
    // Free nodes kept per primitive: 16 covers the usual handful of concurrent waiters; a burst
    // beyond it is left to the GC instead of being retained for the primitive's lifetime.
    private const int PoolLimit = 16;

    private readonly Stack<Waiter<T>> _pool = new();
    private IntrusiveList<Waiter<T>, Waiter<T>.QueueList> _waiters;

    private object? _owner;
    private string? _operation;

    public Loop Loop { get; } = loop;

    /// <summary>Names the primitive and the operation a dump shows for its waiters (<c>LoopQueue&lt;Job&gt;.GetAsync</c>).</summary>
    public void DescribeAs(object owner, string operation)
    {
        _owner = owner;
        _operation = operation;
    }

    /// <summary>What a waiter of this queue waits on, for a greenlet dump.</summary>
    public string Describe() => _owner is null
        ? $"a wait on a loop primitive ({GreenletDump.TypeName(typeof(T))})"
        : $"{GreenletDump.TypeName(_owner.GetType())}.{_operation}";

    /// <summary>Number of waiters linked now.</summary>
    public int Count { get; private set; }

    /// <summary>Number of free nodes kept for reuse.</summary>
    public int PooledCount => _pool.Count;

    public Waiter<T>? First => _waiters.First;

    /// <summary>
    /// Suspends the current greenlet at the tail. Fails at once when the greenlet was killed or
    /// its cancel scope fired. A zero timeout never waits.
    /// </summary>
    public ValueTask<T> WaitAsync(
        CancellationToken cancellationToken,
        TimeSpan? timeout = null,
        bool timeoutThrows = true,
        T? timeoutValue = default,
        T? item = default,
        object? state = null)
    {
        Waiter<T> waiter = Enlist(cancellationToken, timeout, timeoutThrows, timeoutValue, item, state, out ValueTask<T> immediate);
        return waiter is null ? immediate : new ValueTask<T>(waiter, waiter.Version);
    }

    /// <summary>Like <see cref="WaitAsync"/> for waits without a result (puts).</summary>
    public ValueTask WaitNoResultAsync(CancellationToken cancellationToken, TimeSpan? timeout, T item)
    {
        Waiter<T> waiter = Enlist(cancellationToken, timeout, true, default, item, null, out ValueTask<T> immediate);
        return waiter is null ? ToNonGeneric(immediate) : new ValueTask(waiter, waiter.Version);
    }

    private Waiter<T> Enlist(
        CancellationToken cancellationToken,
        TimeSpan? timeout,
        bool timeoutThrows,
        T? timeoutValue,
        T? item,
        object? state,
        out ValueTask<T> immediate)
    {
        immediate = default;
        WaitTimeout.Validate(timeout);

        if (cancellationToken.IsCancellationRequested)
        {
            immediate = ValueTask.FromCanceled<T>(cancellationToken);
            return null!;
        }

        if (timeout == TimeSpan.Zero)
        {
            // A wait that never waits still ends with the greenlet's kill or fired scope, as any
            // later wait of a killed greenlet does, not with a timeout of its own.
            if (Loop.CurrentGreenlet?.PendingAbort() is { } abort)
            {
                immediate = ValueTask.FromException<T>(abort);
                return null!;
            }

            immediate = timeoutThrows
                ? ValueTask.FromException<T>(new LoopTimeoutException("The wait timed out."))
                : new ValueTask<T>(timeoutValue!);
            return null!;
        }

        Waiter<T> waiter = _pool.TryPop(out Waiter<T>? pooled) ? pooled : new Waiter<T>(this);
        if (waiter.Start(cancellationToken, timeout, timeoutThrows, timeoutValue))
        {
            waiter.Item = item;
            waiter.State = state;
        }

        return waiter;
    }

    /// <summary>Hands <paramref name="value"/> to the first waiter; false when none waits.</summary>
    public bool WakeFirst(T value)
    {
        if (_waiters.First is not { } first)
        {
            return false;
        }

        first.Succeed(value);
        return true;
    }

    /// <summary>Hands <paramref name="value"/> to every waiter, oldest first.</summary>
    public void WakeAll(T value)
    {
        while (_waiters.First is { } first)
        {
            first.Succeed(value);
        }
    }

    /// <summary>Fails every waiter with <paramref name="error"/>, oldest first.</summary>
    public void FailAll(Exception error)
    {
        while (_waiters.First is { } first)
        {
            first.Fail(error);
        }
    }

    internal void Unlink(Waiter<T> waiter)
    {
        if (_waiters.Remove(waiter))
        {
            Count--;
        }
    }

    internal Waiter<T>? NextOf(Waiter<T> waiter) => _waiters.NextOf(waiter);

    internal void Return(Waiter<T> waiter)
    {
        if (_pool.Count < PoolLimit)
        {
            _pool.Push(waiter);
        }
    }

    internal void Link(Waiter<T> waiter)
    {
        _waiters.AddLast(waiter);
        Count++;
    }

    private static ValueTask ToNonGeneric(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? default
        : task.IsCanceled ? ValueTask.FromCanceled(GetToken(task))
        : ValueTask.FromException(task.AsTask().Exception!.InnerException!);

    private static CancellationToken GetToken(ValueTask<T> task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex)
        {
            return ex.CancellationToken;
        }

        return default;
    }
}
