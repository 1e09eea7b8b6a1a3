using System.Runtime.CompilerServices;
using EventLoop.Internal;
using EventLoop.Scheduling;

namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Queues <paramref name="callback"/> to run on the loop thread, after the work already
    /// queued (FIFO). Any thread: from another thread it wakes a loop blocked in its poll.
    /// A callback still queued when the loop is disposed never runs (see <see cref="DisposedToken"/>).
    /// </summary>
    /// <param name="callback">The callback; an exception it throws goes to the unhandled-exception handler.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void Post(Action callback)
    {
        if (callback is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(callback));
        }

        ThrowIfDisposed();
        Enqueue(callback, null, null);
    }

    /// <summary>Queues <paramref name="callback"/>(<paramref name="state"/>) like <see cref="Post(Action)"/>; avoids a closure. Any thread.</summary>
    /// <param name="callback">The callback.</param>
    /// <param name="state">Its argument.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void Post(SendOrPostCallback callback, object? state)
    {
        if (callback is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(callback));
        }

        ThrowIfDisposed();
        Enqueue(callback, state, null);
    }

    /// <summary>
    /// Runs <paramref name="callback"/>(<paramref name="state"/>) now when the calling thread may
    /// touch the loop (<see cref="CheckAccess"/>), otherwise queues it like <see cref="Post(Action)"/>
    /// (FIFO, with a wake-up). Any thread. The way a driver hands work to the loop from a
    /// token callback, a thread-pool continuation or a foreign thread without paying a queue
    /// hop when it is already there.
    /// </summary>
    /// <param name="callback">The callback; run inline, an exception it throws reaches the caller; posted, it goes to the unhandled-exception handler.</param>
    /// <param name="state">Its argument.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed and the call is not on the loop thread.</exception>
    public void RunOrPost(Action<object?> callback, object? state)
    {
        if (callback is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(callback));
        }

        if (TryRunHere(callback, state))
        {
            return;
        }

        ThrowIfDisposed();
        EnqueueRemote(callback, state, null);
    }

    /// <summary>
    /// Queues work attributed to <paramref name="owner"/>. On the owner thread it goes straight
    /// into the run queue (no lock, no allocation); from other threads into the inbox, with a
    /// wake-up. Work for a disposed loop is dropped: thread-pool continuations must not crash.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Enqueue(Action<object?> callback, object? state, Greenlet? owner) => Enqueue((object)callback, state, owner);

    /// <summary>Queues a delegate as <see cref="ReadyItem"/> accepts it (Action, Action&lt;object?&gt;, SendOrPostCallback).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Enqueue(object callback, object? state, Greenlet? owner)
    {
        int me = Environment.CurrentManagedThreadId;
        int running = _runningThreadId;
        if (running == me)
        {
            _runQueue.Enqueue(new ReadyItem(callback, state, owner));
        }
        else if (running == 0 && _ownerThreadId == me)
        {
            EnqueueAsIdleOwner(callback, state, owner);
        }
        else
        {
            EnqueueRemote(callback, state, owner);
        }
    }

    /// <summary>The owner thread queues while no thread runs the loop: straight into the run queue, unless a thread just took the loop over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnqueueAsIdleOwner(object callback, object? state, Greenlet? owner)
    {
        if (!BeginIdleTouch())
        {
            EnqueueRemote(callback, state, owner);
            return;
        }

        try
        {
            _runQueue.Enqueue(new ReadyItem(callback, state, owner));
            OnQueuedBetweenIterations(); // a host waiting on BackendDescriptor must see it
        }
        finally
        {
            EndIdleTouch();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnqueueRemote(object callback, object? state, Greenlet? owner)
    {
        if (_disposed)
        {
            return;
        }

        // Work handed over from another thread on a greenlet's behalf (a thread-pool continuation
        // of a library the greenlet called) belongs to that greenlet: it flows with the
        // ExecutionContext, so the waits the work starts are the greenlet's to kill and time out.
        owner ??= Greenlet.Ambient(this);
        _inbox.Enqueue(new ReadyItem(callback, state, owner));
        Wake();
    }

    private void Wake()
    {
        // Coalesce: one write per drain is enough; DrainInbox clears the flag before it swaps.
        if (Interlocked.Exchange(ref _wakeSignalled, 1) == 0 && !_disposed)
        {
            _waker.Wake();
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Loop));
        }
    }
}
