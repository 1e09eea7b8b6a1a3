using System.Runtime.CompilerServices;
using EventLoop.Coroutines;

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
    /// Cost: the greenlet and the returned task. The call's bookkeeping (the caller's wait and the
    /// remote greenlet's completion listener, one object) is recycled on a calling loop once the
    /// outcome is delivered; a plain thread's call allocates it each time. The result travels back
    /// through the caller loop's inbox (one wake-up when it sleeps).
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

    // Result types that have made a call from some loop: each has its own slot below.
    private static int s_invocationTypes;

    // Per result type, the calls this loop made and finished, kept for its next calls: they live
    // and die with the loop, so a disposed loop is not kept reachable by the thread that ran it.
    // Touched on this loop's thread only.
    private object?[] _freeInvocations = [];

    private Task<T> InvokeCore<T>(Greenlet greenlet)
    {
        ThrowIfDisposed();
        greenlet.MarkFailureRaisedByOwner();
        Loop? caller = t_current;
        Invocation<T> call = Invocation<T>.Rent(caller, greenlet);
        Task<T> task = call.Task;
        if (caller is not null && call.AttachToCurrentGreenlet() is { } abort)
        {
            call.Fail(abort); // the calling greenlet is already killed or past its deadline
            call.Recycle(); // nothing else saw it
            return task;
        }

        greenlet.AddListener(call); // not yet published: no other thread sees the greenlet

        // A loop disposed around the spawn ends the greenlet as killed (SpawnCore), which tells
        // the call like any completion: the task is canceled.
        SpawnCore(greenlet);
        return task;
    }

    /// <summary>
    /// One cross-loop call: the caller's wait (linked to the calling greenlet, so its kill or
    /// deadline ends the call and kills the remote greenlet) and the remote greenlet's completion
    /// listener, in one object; the builder owns the returned task. A call from a loop thread is
    /// recycled on that thread once its outcome is delivered, so a warm loop allocates only the
    /// greenlet and the returned task per call.
    /// </summary>
    private sealed class Invocation<T> : LoopWait, IGreenletListener, IThreadPoolWorkItem
    {
        private const int PoolLimit = 64;

        private static readonly Action<object?> s_deliver = static s => ((Invocation<T>)s!).Deliver();

        // This result type's slot in every loop's _freeInvocations.
        private static readonly int s_slot = Interlocked.Increment(ref s_invocationTypes) - 1;

        private readonly Loop? _callerLoop;
        private Greenlet? _callerGreenlet;
        private Greenlet _greenlet;
        private AsyncTaskMethodBuilder<T> _builder;
        private Invocation<T>? _nextFree;
        private bool _done; // caller's side (its loop thread, or the one thread-pool delivery)

        private Invocation(Loop? callerLoop, Greenlet greenlet)
            : base(callerLoop ?? greenlet.Loop)
        {
            _callerLoop = callerLoop;
            _greenlet = greenlet;
        }

        public Task<T> Task => _builder.Task;

        /// <summary>A call for <paramref name="greenlet"/>: a recycled one of the caller's loop, or a new one.</summary>
        public static Invocation<T> Rent(Loop? callerLoop, Greenlet greenlet)
        {
            Invocation<T> call;
            if (callerLoop is not null && FreeListOf(callerLoop) is { Top: { } free } list)
            {
                list.Top = free._nextFree;
                list.Count--;
                free._nextFree = null;
                free._greenlet = greenlet;
                call = free;
            }
            else
            {
                call = new Invocation<T>(callerLoop, greenlet);
            }

            call._callerGreenlet = callerLoop?.CurrentGreenlet;
            return call;
        }

        public void Fail(Exception error)
        {
            _done = true;
            _builder.SetException(error);
        }

        /// <summary>
        /// Returns a finished call to its loop's free list: its outcome was delivered (or it
        /// failed before its greenlet was spawned), so neither side holds it. Caller's loop thread.
        /// </summary>
        public void Recycle()
        {
            if (_callerLoop is null || !_callerLoop.IsOnLoopThread)
            {
                return;
            }

            _greenlet = null!;
            _callerGreenlet = null;
            _builder = default;
            _done = false;
            FreeList list = FreeListOf(_callerLoop) ?? CreateFreeList(_callerLoop);
            if (list.Count < PoolLimit)
            {
                _nextFree = list.Top;
                list.Top = this;
                list.Count++;
            }
        }

        // Once per call: the greenlet completes once (on its loop, or ended unstarted by whichever
        // thread found its loop disposed).
        public void OnGreenletCompleted(Greenlet greenlet) => Hand();

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

        private void Hand()
        {
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
                Recycle(); // the caller gave up (killed or timed out) before the outcome came
                return;
            }

            _done = true;
            Detach();
            Exception? error = _greenlet.Exception;
            T result = error is null && _greenlet is Greenlet<T> typed ? typed.Value : default!;
            AsyncTaskMethodBuilder<T> builder = _builder;

            // Recycled before the task completes: the awaiting continuation runs inline below and
            // may make the next call, which can reuse this object.
            Recycle();
            if (error is not null)
            {
                builder.SetException(error);
            }
            else
            {
                builder.SetResult(result);
            }
        }

        private static FreeList? FreeListOf(Loop loop)
        {
            object?[] lists = loop._freeInvocations;
            return (uint)s_slot < (uint)lists.Length ? Unsafe.As<FreeList?>(lists[s_slot]) : null;
        }

        private static FreeList CreateFreeList(Loop loop)
        {
            if (s_slot >= loop._freeInvocations.Length)
            {
                Array.Resize(ref loop._freeInvocations, s_slot + 4);
            }

            var list = new FreeList();
            loop._freeInvocations[s_slot] = list;
            return list;
        }

        /// <summary>A loop's finished calls of this result type, ready for reuse (its thread only).</summary>
        private sealed class FreeList
        {
            public Invocation<T>? Top;
            public int Count;
        }
    }
}
