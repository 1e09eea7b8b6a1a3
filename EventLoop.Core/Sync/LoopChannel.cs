namespace EventLoop;

/// <summary>
/// A rendezvous between greenlets, like gevent's <c>Channel</c>: it holds no items, so
/// <see cref="LoopQueue{T}.PutAsync"/> completes only when a getter takes the item (at once when
/// one waits), and <see cref="LoopQueue{T}.TryPut"/> succeeds only when a getter waits.
/// <see cref="LoopQueue{T}.Count"/> is always 0. Loop-thread only.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class LoopChannel<T> : LoopQueue<T>
{
    /// <summary>Creates a channel.</summary>
    /// <param name="loop">The loop whose greenlets use it.</param>
    public LoopChannel(Loop loop)
        : base(loop, 0, validate: false)
    {
    }
}
