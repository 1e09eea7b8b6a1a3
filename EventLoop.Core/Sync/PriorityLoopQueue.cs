using System.Diagnostics.CodeAnalysis;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A queue that hands out the smallest item first (by an <see cref="IComparer{T}"/>), like gevent's
/// <c>PriorityQueue</c>; equal items come out in the order they were put. Otherwise it behaves as
/// <see cref="LoopQueue{T}"/>. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class PriorityLoopQueue<T> : IAsyncEnumerable<T>
{
    private readonly QueueCore<T> _core;

    /// <summary>Creates a priority queue.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    /// <param name="comparer">Orders the items; null for <see cref="Comparer{T}.Default"/>.</param>
    /// <param name="capacity">The most items it holds; null for no bound.</param>
    public PriorityLoopQueue(Loop loop, IComparer<T>? comparer = null, int? capacity = null)
    {
        _core = new QueueCore<T>(loop, QueueCapacity.Validate(capacity), new ItemStore<T>.Priority(comparer));
        _core.DescribeAs(this);
    }

    /// <inheritdoc cref="LoopQueue{T}.Count"/>
    public int Count => _core.Count;

    /// <inheritdoc cref="LoopQueue{T}.Capacity"/>
    public int Capacity => _core.Capacity;

    /// <inheritdoc cref="LoopQueue{T}.IsCompleted"/>
    public bool IsCompleted => _core.IsCompleted;

    /// <inheritdoc cref="LoopQueue{T}.WaitingGetters"/>
    public int WaitingGetters => _core.WaitingGetters;

    /// <inheritdoc cref="LoopQueue{T}.WaitingPutters"/>
    public int WaitingPutters => _core.WaitingPutters;

    internal int PooledWaiterCount => _core.PooledWaiterCount;

    /// <inheritdoc cref="LoopQueue{T}.TryPut"/>
    public bool TryPut(T item) => _core.TryPut(item);

    /// <inheritdoc cref="LoopQueue{T}.PutAsync(T, CancellationToken)"/>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default) => _core.PutAsync(item, null, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.PutAsync(T, TimeSpan?, CancellationToken)"/>
    public ValueTask PutAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.PutAsync(item, timeout, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.TryGet"/>
    public bool TryGet([MaybeNullWhen(false)] out T item) => _core.TryGet(out item);

    /// <inheritdoc cref="LoopQueue{T}.GetAsync(CancellationToken)"/>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => _core.GetAsync(null, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.GetAsync(TimeSpan?, CancellationToken)"/>
    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.GetAsync(timeout, cancellationToken);

    /// <inheritdoc cref="LoopQueue{T}.Complete"/>
    public void Complete() => _core.Complete();

    /// <inheritdoc cref="LoopQueue{T}.GetAsyncEnumerator"/>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => _core.GetAsyncEnumerator(cancellationToken);
}
