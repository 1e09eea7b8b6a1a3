using System.Runtime.CompilerServices;
using EventLoop.Coroutines;
using EventLoop.Scheduling;

namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Runs <paramref name="body"/> as a greenlet on this loop and hands its outcome back to the
    /// caller, like Seastar's <c>smp::submit_to</c>. Any thread. From a greenlet of another loop
    /// the caller resumes on its own loop; from a plain thread the task completes on the thread pool.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The task completes when the body does, with the very exception it threw (a killed body: the
    /// task is canceled and rethrows the kill's <see cref="OperationCanceledException"/>). A body's
    /// failure reaches the caller only: it is not also reported to this loop's handler.
    /// </para>
    /// <para>
    /// Called from a greenlet, the wait belongs to that greenlet like any loop wait:
    /// <see cref="Greenlet.Kill"/>, <c>FailAfter</c> and <c>MoveOnAfter</c> end it at once
    /// (with the kill's or the scope's exception) and kill the remote greenlet too, so no work
    /// outlives the caller that asked for it.
    /// </para>
    /// <para>
    /// Cost: the greenlet, plus one object that is the caller's wait and the remote greenlet's
    /// completion listener, plus the returned task; the result travels back through the caller
    /// loop's inbox (one wake-up when it sleeps).
    /// </para>
    /// </remarks>
    /// <param name="body">The coroutine to run on this loop.</param>
    /// <returns>A task with the body's outcome.</returns>
    /// <exception cref="ObjectDisposedException">This loop was disposed.</exception>
    public Task InvokeAsync(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return InvokeCore<bool>(new Greenlet(this, body));
    }

    /// <summary>
    /// Runs <paramref name="body"/> as a greenlet on this loop and hands its result back to the
    /// caller; see <see cref="InvokeAsync(Func{Task})"/>. Any thread.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="body">The coroutine to run on this loop.</param>
    /// <returns>A task with the body's result or exception.</returns>
    /// <exception cref="ObjectDisposedException">This loop was disposed.</exception>
    public Task<T> InvokeAsync<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return InvokeCore<T>(new Greenlet<T>(this, body));
    }

    /// <summary>
    /// Runs <paramref name="body"/> as a greenlet on this loop, handing it the greenlet's kill
    /// token; see <see cref="InvokeAsync(Func{Task})"/>. Any thread.
    /// </summary>
    /// <param name="body">The coroutine; its token is cancelled when the greenlet is killed (also by the caller's kill).</param>
    /// <returns>A task with the body's outcome.</returns>
    /// <exception cref="ObjectDisposedException">This loop was disposed.</exception>
    public Task InvokeAsync(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return InvokeCore<bool>(new Greenlet(this, body));
    }

    /// <summary>
    /// Runs <paramref name="body"/> as a greenlet on this loop, handing it the greenlet's kill
    /// token, and hands its result back; see <see cref="InvokeAsync(Func{Task})"/>. Any thread.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="body">The coroutine; its token is cancelled when the greenlet is killed (also by the caller's kill).</param>
    /// <returns>A task with the body's result or exception.</returns>
    /// <exception cref="ObjectDisposedException">This loop was disposed.</exception>
    public Task<T> InvokeAsync<T>(Func<CancellationToken, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return InvokeCore<T>(new Greenlet<T>(this, body));
    }

    private Task<T> InvokeCore<T>(Greenlet greenlet)
    {
        ThrowIfDisposed();
        greenlet.MarkFailureRaisedByRunner();
        Loop? caller = t_current;
        var call = new Invocation<T>(caller, greenlet);
        Task<T> task = call.Task;
        if (caller is not null && call.AttachToCurrentGreenlet() is { } abort)
        {
            call.Fail(abort); // the calling greenlet is already killed or past its deadline
            return task;
        }

        greenlet.AddListener(call); // not yet published: no other thread sees the greenlet
        SpawnCore(greenlet);

        // Dekker with AbandonRemoteSpawns: either the disposing thread drains the spawn from the
        // inbox, or this read sees the loop disposed; each side fences between its write and read.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _disposed))
        {
            call.OnAbandoned(new OperationCanceledException($"Loop '{Name}' was disposed before it ran the invoked body."));
        }

        return task;
    }

    /// <summary>
    /// After <see cref="Dispose"/>: ends the greenlets spawned from other threads whose start was
    /// still in the inbox (it is not read again), so their invokers and joiners are not left waiting.
    /// Run by the thread that disposed the loop.
    /// </summary>
    internal void AbandonRemoteSpawns()
    {
        Interlocked.MemoryBarrier();
        var items = new RunQueue();
        _inbox.DrainTo(ref items);
        while (items.Count > 0)
        {
            ReadyItem item = items.Dequeue();
            if (ReferenceEquals(item.Callback, s_startRemote) && item.State is Greenlet greenlet)
            {
                greenlet.KillCore();
            }
        }
    }

    /// <summary>
    /// One cross-loop call: the caller's wait (linked to the calling greenlet, so its kill or
    /// deadline ends the call and kills the remote greenlet) and the remote greenlet's completion
    /// listener, in one object; the builder owns the returned task.
    /// </summary>
    private sealed class Invocation<T> : LoopWait, IGreenletListener, IThreadPoolWorkItem
    {
        private static readonly Action<object?> s_deliver = static s => ((Invocation<T>)s!).Deliver();

        private readonly Loop? _callerLoop;
        private readonly Greenlet? _callerGreenlet;
        private readonly Greenlet _greenlet;
        private AsyncTaskMethodBuilder<T> _builder = AsyncTaskMethodBuilder<T>.Create();
        private Exception? _abandoned;
        private int _claimed; // the outcome is taken once: completion or abandonment
        private bool _done; // caller's side (its loop thread, or the one thread-pool delivery)

        public Invocation(Loop? callerLoop, Greenlet greenlet)
            : base(callerLoop ?? greenlet.Loop)
        {
            _callerLoop = callerLoop;
            _callerGreenlet = callerLoop?.CurrentGreenlet;
            _greenlet = greenlet;
        }

        public Task<T> Task => _builder.Task;

        public void Fail(Exception error)
        {
            _done = true;
            _builder.SetException(error);
        }

        public void OnGreenletCompleted(Greenlet greenlet) => Claim();

        public void OnAbandoned(Exception error)
        {
            _abandoned = error;
            Claim();
        }

        void IThreadPoolWorkItem.Execute() => Deliver();

        internal override void Abort(Exception error)
        {
            // The calling greenlet was killed or its scope's deadline passed (caller's loop thread).
            if (_done)
            {
                return;
            }

            Detach();
            _greenlet.Kill();
            Fail(error);
        }

        private void Claim()
        {
            if (Interlocked.Exchange(ref _claimed, 1) != 0)
            {
                return;
            }

            if (_callerLoop is null)
            {
                // A plain thread awaits: its continuation must not run on this loop's thread.
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
            else
            {
                // Attributed to the calling greenlet, so its context is current when the task
                // completes and the awaiting continuation runs inline: one hop, not two.
                _callerLoop.Enqueue(s_deliver, this, _callerGreenlet);
            }
        }

        private void Deliver()
        {
            if (_done)
            {
                return;
            }

            _done = true;
            Detach();
            Exception? error = _abandoned ?? _greenlet.Exception;
            if (error is not null)
            {
                _builder.SetException(error);
            }
            else
            {
                _builder.SetResult(_greenlet is Greenlet<T> typed ? typed.Value : default!);
            }
        }
    }
}
