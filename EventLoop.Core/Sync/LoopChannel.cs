using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A rendezvous between greenlets, like gevent's <c>Channel</c>: it holds no items, so
/// <see cref="PutAsync(T, CancellationToken)"/> completes only when a getter takes the item (at once when one waits),
/// <see cref="TryPut"/> succeeds only when a getter waits, and <see cref="TryGet"/> succeeds only
/// when a putter waits. Putters and getters are each served in FIFO order. After
/// <see cref="Complete"/>, waiting putters and getters fail with
/// <see cref="LoopQueueCompletedException"/> and <c>await foreach</c> ends. Loop-thread only;
/// members throw <see cref="InvalidOperationException"/> off the loop thread.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class LoopChannel<T> : IAsyncEnumerable<T>
{
    private readonly QueueCore<T> _core;

    /// <summary>Creates a channel.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    public LoopChannel(Loop loop)
    {
        _core = new QueueCore<T>(loop, 0, new ItemStore<T>.None());
        _core.DescribeAs(this);
    }

    /// <summary>True once <see cref="Complete"/> was called.</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>Greenlets waiting in <see cref="GetAsync(CancellationToken)"/> for a putter.</summary>
    public int WaitingGetters => _core.WaitingGetters;

    /// <summary>Greenlets waiting in <see cref="PutAsync(T, CancellationToken)"/> for a getter.</summary>
    public int WaitingPutters => _core.WaitingPutters;

    /// <summary>Always 0: a channel holds no items.</summary>
    [Obsolete("A channel holds no items; Count is always 0. Use WaitingPutters to see items on offer.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int Count => 0;

    /// <summary>Always 0: a channel holds no items.</summary>
    [Obsolete("A channel holds no items; Capacity is always 0.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int Capacity => 0;

    internal int PooledWaiterCount => _core.PooledWaiterCount;

    /// <summary>Hands <paramref name="item"/> to a waiting getter, without waiting. Loop thread.</summary>
    /// <param name="item">The item.</param>
    /// <returns>False when no getter waits or the channel is completed.</returns>
    public bool TryPut(T item) => _core.TryPut(item);

    /// <summary>
    /// Hands <paramref name="item"/> to a getter, waiting (FIFO among putters) until one takes it.
    /// Allocation-free once warm when the token cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; the item is not delivered then.</param>
    /// <returns>A ValueTask that completes once a getter has the item.</returns>
    /// <exception cref="LoopQueueCompletedException">The channel was completed (also while waiting).</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default) => _core.PutAsync(item, null, cancellationToken);

    /// <summary>Like <see cref="PutAsync(T, CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time); the item is not delivered then.</summary>
    /// <param name="item">The item.</param>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A ValueTask that completes once a getter has the item.</returns>
    /// <exception cref="LoopTimeoutException">No getter came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask PutAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.PutAsync(item, timeout, cancellationToken);

    /// <summary>Takes the oldest waiting putter's item, without waiting. Loop thread.</summary>
    /// <param name="item">The item taken.</param>
    /// <returns>False when no putter waits.</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item) => _core.TryGet(out item);

    /// <summary>
    /// Takes an item, waiting (FIFO among getters) until a putter offers one. Allocation-free once
    /// warm when the token cannot be canceled. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopQueueCompletedException">The channel is completed.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled or the greenlet killed.</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) => _core.GetAsync(null, cancellationToken);

    /// <summary>Like <see cref="GetAsync(CancellationToken)"/>, giving up after <paramref name="timeout"/> (loop time).</summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="LoopTimeoutException">No putter came within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<T> GetAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) => _core.GetAsync(timeout, cancellationToken);

    /// <summary>
    /// Declares that no more items will be put: waiting putters and getters fail with
    /// <see cref="LoopQueueCompletedException"/>. Idempotent. Loop thread.
    /// </summary>
    public void Complete() => _core.Complete();

    /// <summary>Enumerates items as putters hand them over, until the channel is completed.</summary>
    /// <param name="cancellationToken">Cancels a wait for the next item.</param>
    /// <returns>The enumerator.</returns>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => _core.GetAsyncEnumerator(cancellationToken);
}
