using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using EventLoop.Coroutines;
using EventLoop.Internal;

namespace EventLoop;

/// <summary>
/// A coroutine spawned on a <see cref="Loop"/>, like a gevent greenlet: its body starts on a
/// later loop iteration, runs on the loop thread, and can be joined, awaited, linked and killed.
/// </summary>
/// <remarks>
/// Members are loop-thread only except <see cref="Kill"/>, <see cref="KillAsync"/>,
/// <see cref="Link"/>, the read-only state properties, <see cref="Task"/> and awaiting, which
/// work from any thread.
/// </remarks>
public class Greenlet
{
    private static long s_nextId;

    // The greenlet a body runs for, flowing with the ExecutionContext into everything the body
    // starts: library continuations on the thread pool, tasks, timers. Work such code hands to the
    // loop, and the loop waits it starts, belong to this greenlet (kill and cancel scopes reach them).
    private static readonly AsyncLocal<Greenlet?> s_ambient = new();

    // A loop may hold 100,000 greenlets at once, so the object stays small (96 bytes): fields
    // most greenlets never use live in a side object, and the context carries the loop.
    private readonly LoopSynchronizationContext _context;
    // The body delegate until it starts, then the Task it returned, then (once completed) the
    // exception the greenlet ended with, or null: one field for three lifetimes that never overlap.
    private object? _body;
    private volatile int _state; // GreenletState
    private bool _killRequested;
    private bool _failureRaisedByOwner; // Run(main), InvokeAsync or a TaskScope rethrows it: not reported as well
    private bool _bodyWatched; // a ContinueWith observes the body's task: it may complete off the loop
    private bool _bodyParkedOnLoop; // this step ended with the body awaiting a loop source directly
    // What a dump shows, packed in 8 bytes: the high half is the greenlet's Id minus its parent's
    // (0: no parent, or one more than 2^32 spawns back), the low half the loop time of the spawn
    // in milliseconds modulo 2^32 (ages below 49 days read right).
    private ulong _spawnInfo;
    private object? _listeners; // IGreenletListener or List<IGreenletListener>
    private IntrusiveList<LoopWait, LoopWait.OwnerList> _waits;
    // The side object: null, the kill token's source alone (a body that takes the token and needs
    // nothing else: no name, Task or cancel scope), or an Extras that holds it among the rest.
    private object? _extras;

    // The loop's intrusive list of live greenlets (Dispose kills them).
    internal IntrusiveLinks<Greenlet> LiveLinks;

    internal Greenlet(Loop loop, object body)
    {
        _context = new LoopSynchronizationContext(loop, this);
        _body = body;
        Id = Interlocked.Increment(ref s_nextId);
    }

    /// <summary>The greenlet running on the current thread's loop right now, or null.</summary>
    public static Greenlet? Current => Loop.Current?.CurrentGreenlet;

    /// <summary>
    /// The greenlet of <paramref name="loop"/> that the code running on this thread serves, as the
    /// ExecutionContext carries it, or null. A greenlet that completed normally no longer claims
    /// work; a killed one does, so the waits its detached body starts fail at once. Any thread.
    /// </summary>
    internal static Greenlet? Ambient(Loop loop) =>
        s_ambient.Value is { } g && ReferenceEquals(g.Loop, loop) && (!g.IsCompleted || g.IsKilled) ? g : null;

    /// <summary>A process-wide unique, increasing number.</summary>
    public long Id { get; }

    /// <summary>A name for diagnostics; defaults to <c>Greenlet-{Id}</c>.</summary>
    public string Name
    {
        get
        {
            Extras? extras = ExtrasIfAny;
            switch (extras?.Name)
            {
                case string name:
                    return name;
                case IGreenletNameSource source:
                    string named = source.GetGreenletName();
                    extras.Name = named;
                    return named;
                default:
                    return $"Greenlet-{Id}";
            }
        }

        set => GetExtras().Name = value;
    }

    /// <summary>The loop the greenlet runs on.</summary>
    public Loop Loop => _context.Loop;

    /// <summary>
    /// The <see cref="Id"/> of the greenlet that spawned this one, or null when it was spawned
    /// outside a greenlet (or from another thread).
    /// </summary>
    public long? ParentId => (uint)(_spawnInfo >> 32) is var delta && delta != 0 ? Id - delta : null;

    /// <summary>True once the body has finished (returned, thrown, or been killed).</summary>
    public bool IsCompleted => _state == GreenletState.Completed;

    /// <summary>True once the body has started running.</summary>
    public bool IsStarted => _state != GreenletState.Pending;

    /// <summary>True when the greenlet completed without an exception.</summary>
    public bool Succeeded => IsCompleted && Error is null;

    /// <summary>
    /// The exception the body ended with (the very object it threw), or null. For a killed
    /// greenlet it is the <see cref="OperationCanceledException"/> that ended it.
    /// </summary>
    public Exception? Exception => IsCompleted ? Error : null;

    /// <summary>True when <see cref="Kill"/> was requested (whether or not the body honoured it).</summary>
    public bool IsKilled => Volatile.Read(ref _killRequested);

    /// <summary>
    /// A task that completes with the greenlet: successfully, faulted with its exception, or
    /// cancelled when it was killed. Continuations never run inline on the loop thread.
    /// </summary>
    public Task Task => TaskFromSource(EnsureTaskSource());

    internal LoopSynchronizationContext Context => _context;

    /// <summary>
    /// Marks the greenlet as one whose failure an owner rethrows (<see cref="Loop.Run(Func{Task})"/>'s
    /// main, an <c>InvokeAsync</c> call, a <see cref="TaskScope"/>'s child): the caller receives the
    /// exception, so the loop does not report it a second time. An owner that cannot deliver the
    /// failure after all hands it to <see cref="Loop.ReportGreenletFailure"/> itself.
    /// </summary>
    internal void MarkFailureRaisedByOwner() => _failureRaisedByOwner = true;

    /// <summary>Names the greenlet lazily: <paramref name="source"/> is asked on the first read of <see cref="Name"/>.</summary>
    /// <param name="source">Supplies the name once.</param>
    public void SetNameSource(IGreenletNameSource source) => GetExtras().Name = source ?? throw new ArgumentNullException(nameof(source));

    /// <summary>
    /// True when <paramref name="token"/> is this greenlet's own kill token (a wait linked to the
    /// greenlet need not register on it: see <see cref="TokenRegistration.Register"/>).
    /// </summary>
    internal bool OwnsToken(CancellationToken token) => KillSource is { } cts && token == cts.Token;

    // Innermost active cancel scope (FailAfter, MoveOnAfter, TaskScope) of this greenlet; each
    // links to the one it is nested in. PendingAbort consults it so a wait that starts after a
    // scope was cancelled fails at once; the scope itself aborts the waits pending when it fires.
    internal CancelScope? CancelScopes
    {
        get => ExtrasIfAny?.CancelScopes;
        set
        {
            if (value is not null || ExtrasIfAny is not null)
            {
                GetExtras().CancelScopes = value;
            }
        }
    }

    // The exception the greenlet ended with: only once completed does _body hold one.
    private Exception? Error => _body as Exception;

    // Ended by Kill (not a failure: not reported, not raised by JoinAll(raiseError)).
    internal bool EndedByKill => _killRequested && Error is OperationCanceledException;

    internal bool Failed => IsCompleted && Error is not null && !EndedByKill;

    /// <summary>The token handed to the body; cancelled by <see cref="Kill"/>. Loop thread.</summary>
    internal CancellationToken Token
    {
        get
        {
            CancellationTokenSource? cts = KillSource;
            if (cts is null)
            {
                cts = new CancellationTokenSource();
                if (_killRequested)
                {
                    cts.Cancel();
                }

                // Alone when nothing else is there yet; another thread may be creating the Extras
                // at the same moment (the Task bridge), and then it goes in there.
                if (Interlocked.CompareExchange(ref _extras, cts, null) is not null)
                {
                    GetExtras().Cts = cts;
                }
            }

            return cts.Token;
        }
    }

    /// <summary>
    /// Kills the greenlet: a greenlet that has not started never runs; a running one has its
    /// token cancelled and every loop wait it is suspended in (and every later one) throws
    /// <see cref="OperationCanceledException"/>. Never throws. Any thread; returns at once.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The loop waits a library starts on the greenlet's behalf count as its own: the greenlet
    /// flows with the <see cref="ExecutionContext"/>, so a kill ends a greenlet inside
    /// <c>HttpClient.GetAsync</c> over <c>LoopHttp</c>, or inside a <c>StreamReader</c> over a
    /// connection's stream, with no token passed.
    /// </para>
    /// <para>
    /// A greenlet suspended in an await the loop does not own (<c>await Task.Delay</c>, a
    /// <see cref="TaskCompletionSource"/>, a thread-pool API) cannot be interrupted there: within
    /// one loop iteration it is completed as killed anyway and its body detached. The body resumes
    /// when that task completes, so its <c>finally</c> blocks run only then; every loop wait it
    /// starts afterwards fails at once, and its late result or exception is dropped.
    /// </para>
    /// <para>
    /// A killed greenlet never reports <see cref="Succeeded"/>: whatever its body does after the
    /// kill (swallow the exception and return, or throw another one), <see cref="Exception"/> is an
    /// <see cref="OperationCanceledException"/> and <see cref="Task"/> is cancelled.
    /// </para>
    /// </remarks>
    public void Kill()
    {
        if (IsCompleted)
        {
            return;
        }

        if (!Loop.TryRunHere(static g => g.KillCore(), this))
        {
            if (_state == GreenletState.Pending)
            {
                // Its start may already wait in the run queue, ahead of the kill posted below:
                // Start sees the request and the body never runs, as on the loop thread.
                Volatile.Write(ref _killRequested, true);
            }

            Loop.Enqueue(static s => ((Greenlet)s!).KillCore(), this, null);
        }
    }

    /// <summary>Kills the greenlet and returns a task that completes when it has finished. Never throws.</summary>
    /// <returns>A task that completes successfully once the greenlet is completed.</returns>
    public Task KillAsync()
    {
        Kill();
        if (IsCompleted)
        {
            return Task.CompletedTask;
        }

        // Completed by a listener on the loop thread, not by a continuation on the thread pool:
        // a thread-pool hop would race a virtual clock that jumps while it is under way.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AddOrFireFromAnyThread(new LinkListener(_ => done.TrySetResult()));
        return done.Task;
    }

    /// <summary>
    /// Calls <paramref name="callback"/> once, on the loop thread, when the greenlet completes.
    /// On the loop thread a completed greenlet's callback runs at once; from another thread the
    /// link is posted to the loop and the callback runs there. An exception it throws goes to
    /// the loop's handler. Any thread.
    /// </summary>
    /// <param name="callback">The callback; receives this greenlet.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void Link(Action<Greenlet> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (Loop.IsDisposed)
        {
            throw new ObjectDisposedException(nameof(EventLoop.Loop));
        }

        AddOrFireFromAnyThread(new LinkListener(callback));
    }

    /// <summary>Gets an awaiter; <c>await greenlet</c> rethrows the body's exception as it was thrown.</summary>
    /// <returns>The awaiter.</returns>
    public GreenletAwaiter GetAwaiter() => new(this);

    /// <inheritdoc />
    public override string ToString() => $"{Name} (#{Id}, {(IsCompleted ? (Succeeded ? "succeeded" : "failed") : IsStarted ? "running" : "pending")})";

    /// <summary>
    /// An awaiter's <c>GetResult</c>: the greenlet's outcome, or, when it has not finished, the
    /// abort that ended the await (the awaiting greenlet's kill or cancel scope: see
    /// <see cref="GreenletJoinWait"/>).
    /// </summary>
    internal void ThrowIfFailedOrAwaitAborted()
    {
        if (!IsCompleted && Current?.PendingAbort() is { } abort)
        {
            throw abort;
        }

        ThrowIfFailed();
    }

    internal void ThrowIfFailed()
    {
        if (!IsCompleted)
        {
            throw new InvalidOperationException($"Greenlet {Name} has not finished.");
        }

        if (Error is not null)
        {
            ExceptionDispatchInfo.Throw(Error);
        }
    }

    internal void AddListener(IGreenletListener listener)
    {
        switch (_listeners)
        {
            case null:
                _listeners = listener;
                break;
            case List<IGreenletListener> list:
                list.Add(listener);
                break;
            default:
                _listeners = new List<IGreenletListener> { (IGreenletListener)_listeners, listener };
                break;
        }
    }

    internal void RemoveListener(IGreenletListener listener)
    {
        if (ReferenceEquals(_listeners, listener))
        {
            _listeners = null;
        }
        else if (_listeners is List<IGreenletListener> list)
        {
            list.Remove(listener);
        }
    }

    /// <summary>Adds an awaiter's continuation; any thread.</summary>
    internal void AddContinuation(Action continuation, bool flowExecutionContext)
    {
        if (!IsCompleted
            && SynchronizationContext.Current is LoopSynchronizationContext { Owner: not null } context
            && ReferenceEquals(context.Loop, Loop)
            && Loop.IsOwnerThread)
        {
            // Another greenlet of this loop awaits: a loop wait of that greenlet (kill and scopes end it),
            // resumed as that greenlet's item (an async method's continuation targets its box).
            var wait = new GreenletJoinWait(this, context, continuation, flowExecutionContext ? ExecutionContext.Capture() : null);
            context.Owner.NoteLoopResume(continuation.Target);
            if (wait.AttachToCurrentGreenlet() is not null)
            {
                wait.Resume(); // already killed or past a deadline: resume at once; GetResult throws
            }
            else
            {
                AddListener(wait);
            }

            return;
        }

        var listener = new ContinuationListener(
            continuation,
            SynchronizationContext.Current,
            flowExecutionContext ? ExecutionContext.Capture() : null);
        AddOrFireFromAnyThread(listener);
    }

    /// <summary>Adds a listener (or fires it when already completed); off the loop thread the work is posted.</summary>
    private void AddOrFireFromAnyThread(IGreenletListener listener)
    {
        if (!Loop.TryRunHere(static s => s.Greenlet.AddOrFire(s.Listener), (Greenlet: this, Listener: listener)))
        {
            Loop.Enqueue(static s => { var (g, l) = ((Greenlet, IGreenletListener))s!; g.AddOrFire(l); }, (this, listener), null);
        }
    }

    private void AddOrFire(IGreenletListener listener)
    {
        if (IsCompleted)
        {
            Loop.InvokeListener(listener, this);
        }
        else
        {
            AddListener(listener);
        }
    }

    // ---- running the body (loop thread) ----

    internal static readonly Action<object?> s_start = static s => ((Greenlet)s!).Start();

    private void Start()
    {
        if (_state != GreenletState.Pending)
        {
            return; // killed before it started
        }

        if (Volatile.Read(ref _killRequested))
        {
            KillCore(); // killed from another thread before it started: it never runs
            return;
        }

        _state = GreenletState.Running;
        object body = _body!;
        _body = null;
        Task task;
        Loop.TakeStartResumeState(); // cleared: only this body's first step may set it
        bool tracked = Loop.TracksGreenletsAcrossThreads;
        ExecutionContext? outer = null;
        if (tracked)
        {
            outer = ExecutionContext.Capture();
            s_ambient.Value = this; // the body's context carries its greenlet from its first step on
        }

        try
        {
            task = InvokeBody(body) ?? throw new InvalidOperationException($"The body of {Name} returned a null Task.");
        }
        catch (Exception ex)
        {
            Complete(ex);
            return;
        }
        finally
        {
            if (tracked)
            {
                RestoreContext(outer);
            }
        }

        if (task.IsCompleted)
        {
            Finish(task);
            return;
        }

        _bodyParkedOnLoop = ReferenceEquals(Loop.TakeStartResumeState(), task);
        _body = task; // AfterStep, run by the loop once this item returns, decides how to observe it
    }

    /// <summary>
    /// Told by a loop source, on the loop thread, that it will resume <paramref name="state"/> as
    /// this greenlet's work (a run-queue item attributed to it). When that is the body's own
    /// state machine, the body's next step runs as this greenlet's item and <see cref="AfterStep"/>
    /// sees it complete: no task continuation is needed to observe it.
    /// </summary>
    /// <param name="state">The continuation's state: for an async method's await, its state-machine box.</param>
    internal void NoteLoopResume(object? state)
    {
        object? body = _body;
        if (body is null)
        {
            Loop.NoteStartResumeState(state); // the first step: Start compares it with the task the body returns
        }
        else if (ReferenceEquals(body, state))
        {
            _bodyParkedOnLoop = true;
        }
    }

    /// <summary>
    /// Run by the loop after each run-queue item attributed to this greenlet (its start, each
    /// resumption). A body that completed in that step completes the greenlet right there, as a
    /// continuation running where the body completed would. A body left awaiting anything but a
    /// loop source (a task, a foreign awaiter) may complete elsewhere, even off the loop thread
    /// (<c>ConfigureAwait(false)</c>), so from then on a continuation on its task observes it:
    /// <c>ExecuteSynchronously</c>, so it runs right where the body completes and
    /// <see cref="OnBodyDone"/> can report an escape and hop back. Loop thread.
    /// </summary>
    internal void AfterStep()
    {
        if (_bodyParkedOnLoop)
        {
            // The body's own state machine is a loop source's continuation: it cannot have
            // completed in this step (its next step is a run-queue item), so nothing to look at.
            _bodyParkedOnLoop = false;
            return;
        }

        if (_body is Task task)
        {
            if (task.IsCompleted)
            {
                Finish(task);
            }
            else if (!_bodyWatched)
            {
                _bodyWatched = true;
                task.ContinueWith(s_onBodyDone, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private static void RestoreContext(ExecutionContext? outer)
    {
        if (outer is null)
        {
            s_ambient.Value = null; // the flow was suppressed: only this value changed
        }
        else
        {
            ExecutionContext.Restore(outer);
        }
    }

    private static readonly Action<Task, object?> s_onBodyDone = static (_, s) => ((Greenlet)s!).OnBodyDone();

    private void OnBodyDone()
    {
        if (IsCompleted)
        {
            return; // a detached body (its greenlet was completed as killed): its outcome is dropped
        }

        if (Loop.IsOnLoopThread)
        {
            FinishIfPending();
        }
        else
        {
            Loop.ReportEscape(this);
            Loop.Enqueue(static s => ((Greenlet)s!).FinishIfPending(), this, null);
        }
    }

    // A greenlet completed meanwhile (its loop was disposed while the body still ran) keeps its outcome.
    private void FinishIfPending()
    {
        if (_body is Task task)
        {
            Finish(task);
        }
    }

    internal virtual Task InvokeBody(object body) => body switch
    {
        Func<Task> f => f(),
        Func<CancellationToken, Task> f => f(Token),
        _ => throw new InvalidOperationException("Unsupported greenlet body."),
    };

    internal virtual void OnBodySucceeded(Task task)
    {
    }

    private void Finish(Task task)
    {
        if (_killRequested)
        {
            Complete(KilledOutcome(task)); // a killed greenlet never reports success, whatever its body did after the kill
            return;
        }

        if (task.IsCompletedSuccessfully)
        {
            try
            {
                OnBodySucceeded(task);
            }
            catch (Exception ex)
            {
                Complete(ex);
                return;
            }

            Complete(null);
        }
        else if (task.IsCanceled)
        {
            Complete(CanceledError(task));
        }
        else
        {
            AggregateException? aggregate = task.Exception;
            Complete(aggregate is { InnerExceptions.Count: 1 } ? aggregate.InnerExceptions[0] : aggregate!);
        }
    }

    /// <summary>The exception a canceled body task throws (its own, with its token).</summary>
    private static Exception CanceledError(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
            return new OperationCanceledException();
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    internal void Complete(Exception? error)
    {
        if (_state == GreenletState.Completed)
        {
            return;
        }

        // A body that ended with scopes still open (a TaskScope never ended, a FailAfter never
        // disposed, or any scope of a detached body) leaves them now: their deadlines end, a task
        // scope's children are killed (they must not outlive it) and the failures it recorded,
        // which it can no longer rethrow, go to the handler.
        LeaveScopesAbove(null);

        _body = error;
        PublishCompleted();
        Loop.OnGreenletCompleted(this);

        if (error is not null && !EndedByKill && !_failureRaisedByOwner)
        {
            Loop.ReportGreenletFailure(this, error);
        }

        object? listeners = _listeners;
        _listeners = null;
        if (listeners is List<IGreenletListener> list)
        {
            foreach (IGreenletListener listener in list)
            {
                Loop.InvokeListener(listener, this);
            }
        }
        else if (listeners is IGreenletListener single)
        {
            Loop.InvokeListener(single, this);
        }

        CompleteTaskSource();
    }

    // ---- kill and waits (loop thread) ----

    /// <summary>
    /// What a killed greenlet ends with: the <see cref="OperationCanceledException"/> its body ended
    /// with (the kill's, thrown by an aborted wait), else a new one naming the kill, whose inner
    /// exception is what the body threw instead, if anything.
    /// </summary>
    private OperationCanceledException KilledOutcome(Task task)
    {
        Exception? bodyError = task.IsCompletedSuccessfully ? null
            : task.IsCanceled ? CanceledError(task)
            : task.Exception is { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0]
            : task.Exception;
        return bodyError as OperationCanceledException
            ?? new OperationCanceledException($"Greenlet {Name} was killed.", bodyError, KillSource?.Token ?? default);
    }

    /// <summary>
    /// Completes as killed a greenlet whose start was handed to a loop that was disposed before it
    /// ran it. The thread that spawned it and the thread that disposed the loop may both find it,
    /// so the pending state is claimed with a compare-and-swap and exactly one completes it. Any thread.
    /// </summary>
    /// <param name="why">The message of the <see cref="OperationCanceledException"/> it ends with.</param>
    internal void AbandonUnstarted(string why)
    {
#pragma warning disable CS0420 // Interlocked on a volatile field is fine
        if (Interlocked.CompareExchange(ref _state, GreenletState.Running, GreenletState.Pending) != GreenletState.Pending)
#pragma warning restore CS0420
        {
            return; // started, completed, or claimed by the other thread
        }

        Volatile.Write(ref _killRequested, true);
        Complete(new OperationCanceledException(why, KillSource?.Token ?? default));
    }

    internal void KillCore()
    {
        if (IsCompleted)
        {
            return;
        }

        Volatile.Write(ref _killRequested, true);
        var killed = new OperationCanceledException($"Greenlet {Name} was killed.", KillSource?.Token ?? default);
        if (_state == GreenletState.Pending)
        {
            Complete(killed);
            return;
        }

        CancelToken();
        if (AbortWaits(killed) == 0)
        {
            // No loop wait was pending: unless it is about to run, the greenlet is suspended in
            // an await the loop does not own, which nothing here can interrupt.
            ArmDetachCheck(null);
        }
    }

    private void CancelToken()
    {
        try
        {
            KillSource?.Cancel();
        }
        catch (Exception ex)
        {
            Loop.ReportUnhandled(ex, this);
        }
    }

    /// <summary>
    /// After a kill (<paramref name="scope"/> null) or a cancel scope's expiry that found no loop
    /// wait to abort: on the next iteration, a greenlet that has neither completed nor anything
    /// queued to run is suspended in an await the loop does not own (a Task, a thread-pool API),
    /// which no abort reaches. It is then detached: completed as killed, its body left to finish
    /// on its own (its later loop waits fail at once, its outcome is dropped). Loop thread.
    /// </summary>
    internal void ArmDetachCheck(CancelScope? scope) =>
        Loop.Enqueue(s_checkDetach, scope is null ? this : (this, scope), null);

    private static readonly Action<object?> s_checkDetach = static s =>
    {
        (Greenlet g, CancelScope? scope) = s is Greenlet single ? (single, null) : ((Greenlet, CancelScope?))s!;
        g.CheckDetach(scope, s);
    };

    private void CheckDetach(CancelScope? scope, object? state)
    {
        if (IsCompleted || (scope is not null && !scope.HasFiredWhileActive))
        {
            return; // finished, or the body left the scope: the abort reached it
        }

        if (ExtrasIfAny is { DetachShield: > 0 } shielded)
        {
            shielded.DetachDeferred = true; // it awaits work the loop finishes: look again after
            return;
        }

        if (Loop.HasQueuedWorkOf(this))
        {
            Loop.Enqueue(s_checkDetach, state, null); // it runs this iteration: look again after it
            return;
        }

        if (scope is not null && scope.TryAbandonBody())
        {
            NoteAbandonedBody(); // MoveOnAfter moves on; the greenlet carries on without the body
            return;
        }

        Detach(scope);
    }

    /// <summary>Completes the greenlet as killed without its body, which stays suspended in a foreign await. Loop thread.</summary>
    private void Detach(CancelScope? scope)
    {
        string why = scope is null
            ? $"Greenlet {Name} was killed while it awaited a task the loop does not own; its body was detached."
            : $"Greenlet {Name} was ended by its cancel scope ({scope.PendingError()?.Message}) while it awaited a task the loop does not own; its body was detached.";
        Volatile.Write(ref _killRequested, true); // waits the detached body starts later fail at once
        var killed = new OperationCanceledException(why, scope?.PendingError(), KillSource?.Token ?? default);
        CancelToken();
        AbortWaits(killed);
        Complete(killed); // leaves the scopes the detached body may never leave itself
    }

    /// <summary>The error a new wait of this greenlet must fail with at once (it was killed), or null.</summary>
    internal Exception? PendingAbort() =>
        _killRequested ? new OperationCanceledException($"Greenlet {Name} was killed.", KillSource?.Token ?? default)
        : CancelScopes?.PendingError() ?? (ExtrasIfAny is { AbandonedBodies: true } ? CancelScope.AbandonedBodyError() : null);

    /// <summary>
    /// Leaves, innermost first, the cancel scopes opened on this greenlet above <paramref name="bottom"/>
    /// (all of them when null) by a body that will not leave them itself (see <see cref="CancelScope.LeaveDetached"/>). Loop thread.
    /// </summary>
    internal void LeaveScopesAbove(CancelScope? bottom)
    {
        for (CancelScope? s = CancelScopes; s is not null && !ReferenceEquals(s, bottom); s = CancelScopes)
        {
            s.LeaveDetached();
        }
    }

    /// <summary>A <c>MoveOnAfter</c> of this greenlet moved on from a body left in a foreign await: its waits are checked from then on. Loop thread.</summary>
    internal void NoteAbandonedBody() => GetExtras().AbandonedBodies = true;

    /// <summary>
    /// Marks an await the loop does not own but whose end the loop's own work brings, such as a
    /// <see cref="TaskScope"/> waiting for children it has killed: while marked, a kill or deadline
    /// that finds no loop wait to abort does not detach the body (it would end the greenlet before
    /// the work it waits for). <see cref="Loop.Dispose"/> still ends such a greenlet. Pair with
    /// <see cref="EndDetachShield"/>. Loop thread.
    /// </summary>
    internal void ShieldFromDetach() => GetExtras().DetachShield++;

    /// <summary>
    /// Ends what <see cref="ShieldFromDetach"/> began; a detach check the shield held back runs again
    /// (the body may go on to await something else nothing would end). Loop thread.
    /// </summary>
    internal void EndDetachShield()
    {
        Extras extras = ExtrasIfAny!;
        if (--extras.DetachShield > 0 || !extras.DetachDeferred)
        {
            return;
        }

        extras.DetachDeferred = false;
        if (_killRequested)
        {
            ArmDetachCheck(null);
        }
        else if (extras.CancelScopes?.FirstFired() is { } fired)
        {
            ArmDetachCheck(fired);
        }
    }

    internal void AttachWait(LoopWait wait)
    {
        wait.WaitOwner = this;
        _waits.AddFirst(wait);
    }

    internal void DetachWait(LoopWait wait)
    {
        if (ReferenceEquals(wait.WaitOwner, this))
        {
            _waits.Remove(wait);
            wait.WaitOwner = null;
        }
    }

    /// <summary>Aborts every loop wait this greenlet is suspended in; returns how many. Loop thread.</summary>
    internal int AbortWaits(Exception error)
    {
        int aborted = 0;
        while (_waits.First is { } wait)
        {
            DetachWait(wait);
            wait.Abort(error);
            aborted++;
        }

        return aborted;
    }

    /// <summary>Records the spawning greenlet (as an Id delta, 0 for none) and the spawn's loop time. Loop thread.</summary>
    internal void SetSpawnInfo(uint parentDelta, long nowTicks) =>
        _spawnInfo = ((ulong)parentDelta << 32) | (uint)(nowTicks / TimeSpan.TicksPerMillisecond);

    /// <summary>The Task the running body returned (its async method's state machine box), or null. Any thread, racy.</summary>
    internal Task? BodyTask => Volatile.Read(ref _body) as Task;

    /// <summary>This greenlet for a dump: state, age, and what it waits on. Loop thread.</summary>
    /// <param name="now">Loop time now, in ticks.</param>
    /// <param name="running">The greenlet whose step runs now, or null.</param>
    /// <param name="queued">True when a step of this greenlet waits in the run queue.</param>
    internal GreenletInfo Describe(long now, Greenlet? running, bool queued)
    {
        EventLoop.GreenletState state = IsCompleted ? EventLoop.GreenletState.Completed
            : !IsStarted ? EventLoop.GreenletState.Pending
            : ReferenceEquals(this, running) ? EventLoop.GreenletState.Running
            : EventLoop.GreenletState.Suspended;
        string? waitingOn = state == EventLoop.GreenletState.Suspended ? DescribeWait(now, queued) : null;
        uint ageMs = unchecked((uint)(now / TimeSpan.TicksPerMillisecond) - (uint)_spawnInfo);
        return new GreenletInfo(Id, Name, ParentId, state, TimeSpan.FromMilliseconds(ageMs), waitingOn);
    }

    private string DescribeWait(long now, bool queued)
    {
        string wait = queued ? "nothing (woken, about to run)"
            : _waits.First is { } first ? DescribeSafely(first)
            : "a Task (not a loop wait: another greenlet, a Task, an I/O call outside the loop)";
        if (CancelScopes?.Deadline is { } deadline)
        {
            wait += $"; within FailAfter/MoveOnAfter, {GreenletDump.FormatSpan(deadline - TimeSpan.FromTicks(now))} left";
        }

        return wait;
    }

    // Describe may be a driver's override: a bug in it must not make the whole snapshot or dump fail.
    private static string DescribeSafely(LoopWait wait)
    {
        try
        {
            return wait.Describe();
        }
        catch (Exception ex)
        {
            return $"{GreenletDump.TypeName(wait.GetType())} (Describe threw {ex.GetType().Name}: {ex.Message})";
        }
    }

    /// <summary>Finds a greenlet's links in its loop's list of live greenlets.</summary>
    internal struct LiveList : ILinksAccessor<Greenlet>
    {
        public static ref IntrusiveLinks<Greenlet> Of(Greenlet node) => ref node.LiveLinks;
    }

    // ---- Task bridge (any thread) ----

    private protected virtual object CreateTaskSource() =>
        new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    private protected virtual void CompleteTaskSource(object source)
    {
        var tcs = (TaskCompletionSource)source;
        if (Error is null)
        {
            tcs.TrySetResult();
        }
        else if (EndedByKill)
        {
            tcs.TrySetCanceled(((OperationCanceledException)Error).CancellationToken);
        }
        else
        {
            tcs.TrySetException(Error);
        }
    }

    private protected virtual Task TaskFromSource(object source) => ((TaskCompletionSource)source).Task;

    private protected object EnsureTaskSource()
    {
        Extras extras = GetExtras();
        object? source = Volatile.Read(ref extras.TaskSource);
        if (source is null)
        {
            source = CreateTaskSource();
            object? raced = Interlocked.CompareExchange(ref extras.TaskSource, source, null);
            if (raced is not null)
            {
                return raced;
            }

            if (IsCompleted)
            {
                CompleteTaskSource(source);
            }
        }

        return source;
    }

    private void CompleteTaskSource()
    {
        object? source = ExtrasIfAny is { } extras ? Volatile.Read(ref extras.TaskSource) : null;
        if (source is not null)
        {
            CompleteTaskSource(source);
        }
    }

    /// <summary>
    /// Marks the greenlet completed with a full fence. Side objects that other threads create
    /// lazily (the extras, the Task's source) meet completion in a Dekker handshake: the creator
    /// publishes its object with a compare-and-swap (a full fence) and then reads the state; the
    /// completer stores the state and then reads whether the object exists. A volatile store is
    /// only a release: the processor may still let the completer's later load of the object
    /// overtake its store of the state (store-load reordering, allowed even on x86), so each side
    /// could see the other's "not yet" and nobody would complete the Task. With a full fence on
    /// both sides at least one of them sees the other, and completing the source twice is
    /// harmless (TrySet*). What the state publishes (the exception in _body, a Greenlet&lt;T&gt;'s value, the
    /// kill flag) is written before it, so a thread that reads Completed also reads those.
    /// </summary>
    private void PublishCompleted()
    {
#pragma warning disable CS0420 // Interlocked on a volatile field is fine
        Interlocked.Exchange(ref _state, GreenletState.Completed);
#pragma warning restore CS0420
    }

    /// <summary>The side object, created on first use; any thread (the Task bridge may ask first).</summary>
    private Extras GetExtras()
    {
        while (true)
        {
            object? current = Volatile.Read(ref _extras);
            if (current is Extras extras)
            {
                return extras;
            }

            // Null, or the kill token's source alone: it moves into the new Extras.
            extras = new Extras { Cts = (CancellationTokenSource?)current };
            if (Interlocked.CompareExchange(ref _extras, extras, current) == current)
            {
                return extras;
            }
        }
    }

    /// <summary>The side object when it is an <see cref="Extras"/>; null when there is none or only the kill token's source. Any thread.</summary>
    private Extras? ExtrasIfAny => Volatile.Read(ref _extras) as Extras;

    /// <summary>The kill token's source once <see cref="Token"/> was asked for, else null. Any thread.</summary>
    private CancellationTokenSource? KillSource
    {
        get
        {
            // The slot holds null, the source, or an Extras: anything but an Extras is the source
            // (or null), so the one type test is against the sealed class.
            object? extras = Volatile.Read(ref _extras);
            return extras is Extras all ? all.Cts : Unsafe.As<CancellationTokenSource?>(extras);
        }
    }

    /// <summary>What only some greenlets need: a name, a kill token, a Task, cancel scopes.</summary>
    private sealed class Extras
    {
        public object? Name; // a string, or an IGreenletNameSource not yet asked
        public CancellationTokenSource? Cts;
        public object? TaskSource;
        public CancelScope? CancelScopes;
        public bool AbandonedBodies; // a MoveOnAfter left a body behind: its flow's waits fail at once
        public int DetachShield; // > 0: the body awaits what the loop's own work ends (see ShieldFromDetach)
        public bool DetachDeferred; // a detach check found the shield up: look again when it comes down
    }

    private static class GreenletState
    {
        public const int Pending = 0;
        public const int Running = 1;
        public const int Completed = 2;
    }
}
