namespace EventLoop.Timers;

/// <summary>
/// Something the loop's <see cref="TimerHeap"/> can hold: a user's <see cref="TimerHandle"/>, or a
/// loop wait (a sleep) that is its own timer, so sleeping costs one object instead of two. The
/// heap keeps each node's deadline beside it and tells the node where it sits, so cancelling
/// removes it at once. Loop-thread only.
/// </summary>
internal interface ITimerNode
{
    /// <summary>
    /// Where the node waits: its index in the heap, <see cref="TimerQueue.InRun"/>, or
    /// <see cref="TimerQueue.NotScheduled"/>. Only the queue writes it.
    /// </summary>
    int HeapIndex { get; set; }

    /// <summary>The loop's scheduling counter when the node was pushed: orders equal deadlines.</summary>
    long Sequence { get; set; }

    /// <summary>
    /// Called in the timer phase once the deadline has passed, after the node left the heap.
    /// Loop waits complete here (that only queues their continuations); user callbacks are queued.
    /// </summary>
    void OnDue(Loop loop);
}
