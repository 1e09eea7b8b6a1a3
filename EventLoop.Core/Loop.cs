using System.Runtime.CompilerServices;
using EventLoop.Coroutines;
using EventLoop.Internal;
using EventLoop.Polling;
using EventLoop.Scheduling;
using EventLoop.Timers;

namespace EventLoop;

/// <summary>
/// A single-threaded event loop: a run queue, timers and descriptor readiness, with its own
/// <see cref="SynchronizationContext"/> so that <c>async</c> methods run as coroutines on the
/// loop thread. Spawn greenlets with <see cref="Spawn(Func{Task})"/>, run the loop with
/// <see cref="Run()"/>, <see cref="Run(Func{Task})"/> or one iteration at a time with <see cref="RunOnce"/>.
/// </summary>
/// <remarks>
/// Thread rules: <see cref="Post(Action)"/>, <see cref="Stop"/>, <c>Spawn</c> and <see cref="Greenlet.Kill"/>
/// may be called from any thread. Everything else is called on the thread running the loop, or
/// while no thread runs it.
/// </remarks>
public sealed partial class Loop : IDisposable
{
#pragma warning disable IDE1006 // a [ThreadStatic] keeps the runtime's t_ prefix
    [ThreadStatic]
    private static Loop? t_current;
#pragma warning restore IDE1006

    // 1024 ready events per poll: one epoll_wait serves that many descriptors; more wait for
    // the next iteration, which comes at once because they are still ready.
    private const int ReadyEventCapacity = 1024;

    private readonly LoopOptions _options;
    private readonly IPoller _poller;
    private readonly IWaker _waker;
    private readonly TimeProvider _clock;
    private readonly TimeProvider _time;
    private readonly VirtualClock? _virtualClock;
    private readonly long _originTimestamp;
    private readonly LoopSynchronizationContext _context;
    private readonly ReadyEvent[] _readyEvents = new ReadyEvent[ReadyEventCapacity];
    private readonly CrossThreadQueue _inbox = new();
    private readonly TimerQueue _timers = new();
    private readonly CancellationTokenSource _disposedSource = new();
    private RunQueue _runQueue = new();

    private long _now;
    private long _timerSequence;
    private long _iterations;
    private long _callbacksRun;
    private int _wakeSignalled;
    private readonly long _spinTicks; // LoopOptions.SpinBeforePoll in Stopwatch ticks; 0 = never spin
    private volatile bool _stopRequested;
    private volatile int _runningThreadId;
    private int _ownerThreadId;
    private Greenlet? _currentOwner;
    private bool _disposed;

    /// <summary>Creates a loop; nothing runs until <see cref="Run()"/> or <see cref="RunOnce"/>.</summary>
    /// <param name="options">Settings; null for the defaults (real time, best poller).</param>
    /// <exception cref="PlatformNotSupportedException">The platform has no supported poller (Windows).</exception>
    public Loop(LoopOptions? options = null)
        : this(options, null, null)
    {
    }

    /// <summary>Creates a loop on a given back end (tests substitute the poller).</summary>
    internal Loop(LoopOptions? options, IPoller? poller, IWaker? waker)
    {
        _options = options ?? new LoopOptions();
        if (_options.SpinBeforePoll < TimeSpan.Zero)
        {
            // Checked before anything is acquired: the poller, the wake-up descriptor and the monitor thread.
            throw new ArgumentOutOfRangeException(nameof(options), _options.SpinBeforePoll, "LoopOptions.SpinBeforePoll must not be negative.");
        }

        PollerKind kind = poller?.Kind ?? PollerFactory.Resolve(_options.Poller);
        _poller = poller ?? PollerFactory.Create(kind);
        try
        {
            _waker = waker ?? PollerFactory.CreateWaker(kind);
            _poller.Add(_waker.Fd, PollEvents.Read, WakerToken);
        }
        catch
        {
            _waker?.Dispose();
            _poller.Dispose();
            throw;
        }

        if (_options.VirtualTime)
        {
            _virtualClock = new VirtualClock(this, (_options.TimeProvider ?? TimeProvider.System).GetUtcNow());
            _clock = _virtualClock;
            _time = _virtualClock;
        }
        else
        {
            _clock = _options.TimeProvider ?? TimeProvider.System;
            _time = new LoopClock(this, _clock);
        }

        _originTimestamp = _clock.GetTimestamp();
        _context = new LoopSynchronizationContext(this, null);
        _yield = new YieldSource(this);
        _slowThreshold = _options.SlowCallbackThreshold is { } threshold && threshold > TimeSpan.Zero
            ? (long)(threshold.TotalSeconds * System.Diagnostics.Stopwatch.Frequency)
            : 0;
        _ownerThreadId = Environment.CurrentManagedThreadId;
        _name = _options.Name ?? $"loop-{NextLoopNumber()}";
        _nameTag = new KeyValuePair<string, object?>(LoopMetrics.LoopNameTag, _name);
        _createdStopwatch = System.Diagnostics.Stopwatch.GetTimestamp();
        _pollStartedAt = _createdStopwatch; // idle until the first Run
        if (_options.BlockedLoopThreshold is { } blocked && blocked > TimeSpan.Zero)
        {
            _watchdog = new LoopWatchdog(this, blocked, _options.BlockedLoop);
        }

        _observesOutsideCalls = _watchdog is not null || _slowThreshold != 0;
        _spinTicks = (long)(_options.SpinBeforePoll.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        TracksGreenletsAcrossThreads = _options.TrackGreenletsAcrossThreads;
        LoopMetrics.Register(this);
    }

    /// <summary>The loop running on the calling thread, or null.</summary>
    public static Loop? Current => t_current;

    /// <summary><see cref="LoopOptions.TrackGreenletsAcrossThreads"/>: whether a greenlet's body carries it in its ExecutionContext.</summary>
    internal bool TracksGreenletsAcrossThreads { get; }

    /// <summary>
    /// The loop's clock: in <see cref="LoopOptions.VirtualTime"/> mode the virtual clock, otherwise
    /// the clock the loop reads (<see cref="LoopOptions.TimeProvider"/> or the system clock). In
    /// both modes timers created through it are loop timers whose callbacks run on the loop
    /// thread: <c>Task.Delay(d, loop.Time)</c>, <c>new CancellationTokenSource(d, loop.Time)</c>
    /// and <c>new PeriodicTimer(period, loop.Time)</c> fire on the loop (on virtual time in
    /// virtual mode). Any thread may read it; a timer created from another thread is armed on
    /// the loop's next iteration.
    /// </summary>
    public TimeProvider Time => _time;

    /// <summary>Loop time: elapsed since the loop was created, as cached at the start of the current iteration.</summary>
    public TimeSpan Now => TimeSpan.FromTicks(_now);

    /// <summary>The back end in use (never <see cref="PollerKind.Auto"/>).</summary>
    public PollerKind Poller => _poller.Kind;

    /// <summary>True when the loop runs on a virtual clock.</summary>
    public bool IsVirtualTime => _virtualClock is not null;

    /// <summary>True while some thread is inside <see cref="Run()"/>, <see cref="RunOnce"/> or a blocking join.</summary>
    public bool IsRunning => _runningThreadId != 0;

    /// <summary>True once the loop was disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Canceled by <see cref="Dispose"/> once the loop's greenlets have ended and its descriptors
    /// were released (every <see cref="IReadinessHandler.OnLoopDisposed"/> has run), before the
    /// poller is closed; canceled already when read after that. Any thread. Its callbacks run on
    /// the disposing thread; an exception one throws goes to the unhandled-exception handler.
    /// </summary>
    /// <remarks>
    /// A disposed loop runs nothing more: a callback still queued (<see cref="Post(Action)"/>, a
    /// continuation a wait queued as the loop released its descriptors) never runs, and a post
    /// that races <see cref="Dispose"/> from another thread may be dropped after it was accepted.
    /// Code that hands the loop work on behalf of another thread and completes a task for it
    /// there registers on this token before it posts, fails that task from the callback (with an
    /// <see cref="ObjectDisposedException"/>), so the other thread never waits for ever, and
    /// unregisters once the task completed. Greenlets need none of this: a greenlet spawned from
    /// another thread that never started ends as killed.
    /// </remarks>
    public CancellationToken DisposedToken => _disposedSource.Token;

    /// <summary>Runs the loop until <see cref="Stop"/> is called. A Stop that came before runs one iteration.</summary>
    /// <exception cref="InvalidOperationException">The loop is already running.</exception>
    public void Run()
    {
        EnterRun();
        try
        {
            do
            {
                RunIteration(Timeout.Infinite);
            }
            while (!ConsumeStop());
        }
        finally
        {
            ExitRun();
        }
    }

    /// <summary>
    /// Spawns <paramref name="main"/> as a greenlet and runs the loop until it completes;
    /// rethrows its exception as it was thrown (and, since the caller receives it, does not also
    /// report it to the unhandled-exception handler). Other greenlets stay as they are.
    /// </summary>
    /// <param name="main">The main coroutine.</param>
    /// <exception cref="InvalidOperationException">The loop is already running (main is then not spawned), or <see cref="Stop"/> was called before main completed.</exception>
    public void Run(Func<Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        RunMain(main, static (loop, body) => loop.Spawn(body)).ThrowIfFailed();
    }

    /// <summary>Like <see cref="Run(Func{Task})"/>, returning main's result.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="main">The main coroutine.</param>
    /// <returns>What main returned.</returns>
    public T Run<T>(Func<Task<T>> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMain(main, static (loop, body) => loop.Spawn(body)).GetResultOrThrow();
    }

    /// <summary>
    /// Runs one iteration: due timers, a poll that waits at most <paramref name="timeout"/>
    /// (less when a timer is due sooner, zero when work is ready), then the ready callbacks.
    /// A <see cref="Stop"/> that came before or during the call keeps the poll from blocking and
    /// is consumed when the iteration ends (as libuv's <c>uv_run</c> clears its stop flag).
    /// </summary>
    /// <param name="timeout">The longest the poll may block; <see cref="Timeout.InfiniteTimeSpan"/> for no bound.</param>
    /// <returns>True while work remains: ready callbacks, timers, registrations or live greenlets.</returns>
    public bool RunOnce(TimeSpan timeout)
    {
        int timeoutMs = ToTimeoutMs(timeout);
        EnterRun();
        try
        {
            RunIteration(timeoutMs);

            // A Stop that came before or during this iteration has been served: the iteration
            // did not block, and RunOnce returns anyway (libuv's uv_run clears its stop flag the
            // same way). Left set, it would make every later RunOnce and GetPollTimeout see
            // ready work: a host would spin, and a virtual clock would never jump again.
            ConsumeStop();
        }
        finally
        {
            ExitRun();
        }

        return HasPendingWork;
    }

    /// <summary>
    /// Asks the loop to return from <see cref="Run()"/> after the current iteration. Any thread;
    /// greenlets that are pending stay pending.
    /// </summary>
    public void Stop()
    {
        _stopRequested = true;
        if (!IsOnLoopThread)
        {
            Wake();
        }
    }

    /// <summary>
    /// Kills live greenlets (giving them a few iterations to unwind), unregisters every
    /// descriptor, cancels <see cref="DisposedToken"/>, drops the callbacks still queued and
    /// closes the poller and wake-up descriptors. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called while the loop is running.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (_runningThreadId != 0)
        {
            ThrowHelper.ThrowInvalidOperation("A running loop cannot be disposed; stop it first.");
        }

        KillLiveGreenlets();
        _disposed = true;
        AbandonRemoteSpawns(); // spawned from other threads after the last drain
        ReleaseHandlers();
        CancelDisposedToken();
        _timers.Clear();
        _runQueue.Clear();
        _sleepPool.Clear();
        _poller.Remove(_waker.Fd);
        _waker.Dispose();
        CloseHostDescriptor();
        _pollerClosed = true;
        _poller.Dispose();
        _watchdog?.Dispose();
        LoopMetrics.Unregister(this);
    }

    /// <summary>Runs the <see cref="DisposedToken"/> callbacks on the disposing thread; what they throw is reported, not thrown.</summary>
    private void CancelDisposedToken()
    {
        try
        {
            _disposedSource.Cancel();
        }
        catch (AggregateException errors)
        {
            foreach (Exception error in errors.InnerExceptions)
            {
                ReportUnhandled(error, null);
            }
        }
    }

    // ---- one iteration, as named phases (../shared/DESIGN.md) ----

    private void RunIteration(int callerTimeoutMs)
    {
        _iterations++;
        UpdateTime();
        if (_probeDeadline != 0)
        {
            RunDelayProbe();
        }

        RunDueTimers();
        if (_beforePoll.Length != 0)
        {
            RunBeforePollHooks();
        }

        int timeoutMs = ComputePollTimeout(callerTimeoutMs);
        if (_probeDeadline != 0 && timeoutMs != 0)
        {
            timeoutMs = LimitPollToProbe(timeoutMs);
        }

        if ((timeoutMs != 0 || (_iterations & MetricsFlushMask) == 0) && LoopMetrics.AnyPerIterationEnabled)
        {
            FlushMetrics(); // before the loop may block, and every 64th iteration of a busy loop
        }

        PollIo(timeoutMs);
        if (timeoutMs != 0 || AdvanceVirtualClock(callerTimeoutMs))
        {
            // Timers that came due while the poll blocked (or the virtual clock jumped) run in
            // this iteration; after a zero-timeout poll the next iteration's timer phase suffices.
            UpdateTime();
            RunDueTimers();
        }

        DrainInbox();
        RunReadyQueue();
        if (_host is not null)
        {
            SyncHostDescriptor(); // a host waiting on BackendDescriptor alone wakes for timers and queued work
        }
    }

    private void UpdateTime() => _now = ReadClock();

    private void RunDueTimers()
    {
        // Loop waits (sleeps, timeouts) complete right here, which only queues their
        // continuations; user callbacks are queued to run with the other ready callbacks.
        while (_timers.TryPeekDeadline(out long deadline) && deadline <= _now)
        {
            _timers.Pop().OnDue(this);
        }
    }

    private int ComputePollTimeout(int callerTimeoutMs)
    {
        if (_runQueue.Count > 0 || _inbox.HasItems || _stopRequested || callerTimeoutMs == 0)
        {
            return 0;
        }

        if (!_timers.TryPeekDeadline(out long deadline))
        {
            return callerTimeoutMs;
        }

        if (_virtualClock is not null)
        {
            return 0; // never sleep on a virtual clock: AdvanceVirtualClock jumps instead
        }

        // Round up to whole milliseconds: rounding down would wake before the deadline and spin.
        long remaining = deadline - _now;
        long ms = remaining <= 0 ? 0 : (remaining + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        int timerMs = (int)Math.Min(ms, int.MaxValue);
        return callerTimeoutMs < 0 ? timerMs : Math.Min(timerMs, callerTimeoutMs);
    }

    /// <summary>
    /// Whether a poll can report anything besides the waker: registered descriptors, a host that
    /// waits on <see cref="BackendDescriptor"/>, or requests in flight on the ring (CompletionIo).
    /// </summary>
    private bool HasIoToPoll =>
        _registrationCount > 0 || _host is not null || (_completionIo is not null && _completionIo.InFlight > 0);

    private void PollIo(int timeoutMs)
    {
        _inPollPhase = true;
        try
        {
            PollAndDispatch(timeoutMs);
        }
        finally
        {
            _inPollPhase = false;
            while (_tokensFreedInPoll.TryPop(out int token))
            {
                _freeTokens.Push(token);
            }
        }
    }

    private void PollAndDispatch(int timeoutMs)
    {
        if (timeoutMs != 0 && _spinTicks != 0)
        {
            // The spin waits for work as the poll does, so the utilization gauge times it as idle.
            bool timed = LoopMetrics.Utilization.Enabled;
            long spinStart = timed ? BeginIdle() : System.Diagnostics.Stopwatch.GetTimestamp();
            int found;
            try
            {
                found = SpinForWork(timeoutMs);
            }
            finally
            {
                if (timed)
                {
                    EndIdle(spinStart);
                }
                else
                {
                    EndUntimedIdle();
                }
            }

            if (found > 0)
            {
                DispatchIoEvents(found); // descriptors became ready while spinning
                return;
            }

            // Work was posted while spinning: poll without blocking, then run it. Otherwise the
            // spin ran out, and the poll waits only for what is left of the timeout.
            timeoutMs = found == 0 ? 0 : TimeoutLeftAfter(timeoutMs, spinStart);
        }

        if (timeoutMs == 0 && !HasIoToPoll)
        {
            // Nothing but the waker is registered and we would not block: the poll could only
            // report the waker, and DrainInbox reads the inbox anyway. Skipping the system call
            // makes a yield a few nanoseconds instead of an epoll_wait; a wake-up left pending
            // just ends the next blocking poll early. A host waiting on BackendDescriptor would
            // see that wake-up (or an expired host timer) as readiness forever, so host mode polls;
            // requests in flight on the ring (CompletionIo) are reaped by the poll, so they do too.
            _lastIoEvents = 0;
            return;
        }

        if (timeoutMs == 0)
        {
            DispatchIoEvents(_poller.Poll(_readyEvents, 0));
        }
        else if (LoopMetrics.Utilization.Enabled)
        {
            DispatchIoEvents(PollTimed(timeoutMs));
        }
        else
        {
            // Marked so that a utilization reading that starts meanwhile knows the loop is idle.
            _inUntimedPoll = true;
            int ready = _poller.Poll(_readyEvents, timeoutMs);
            EndUntimedIdle();
            DispatchIoEvents(ready);
        }
    }

    /// <summary>
    /// What is left of a poll timeout of <paramref name="timeoutMs"/> (infinite when negative) that
    /// started at <paramref name="since"/>: whole milliseconds that have passed are taken off, so the
    /// poll ends no earlier than the timeout would have, and less than a millisecond later.
    /// </summary>
    private static int TimeoutLeftAfter(int timeoutMs, long since)
    {
        if (timeoutMs < 0)
        {
            return timeoutMs;
        }

        long elapsedMs = (System.Diagnostics.Stopwatch.GetTimestamp() - since) * 1000 / System.Diagnostics.Stopwatch.Frequency;
        return (int)Math.Max(0, timeoutMs - elapsedMs);
    }

    /// <summary>
    /// <see cref="LoopOptions.SpinBeforePoll"/>: busy-waits up to the spin time (bounded by the poll's
    /// timeout) for work another thread posts and, when descriptors are registered or requests are on
    /// the ring, for readiness, through non-blocking polls. Returns the number of ready events a poll
    /// found (to dispatch), 0 when work arrived otherwise (posted, queued by completions a poll ran,
    /// or a stop was requested), -1 when the spin ran out and the loop should sleep in its poll.
    /// While it spins the wake flag is held set, so posters skip the eventfd write (they see "already
    /// signalled"); the flag is cleared with a full fence before the inbox is checked a last time, so
    /// a post that comes after that check sees the cleared flag and wakes the poll: the same
    /// handshake as <see cref="DrainInbox"/>'s.
    /// </summary>
    private int SpinForWork(int timeoutMs)
    {
        if (Interlocked.Exchange(ref _wakeSignalled, 1) != 0)
        {
            return -1; // a wake-up is already pending: the poll returns at once anyway
        }

        long spin = _spinTicks;
        if (timeoutMs > 0)
        {
            spin = Math.Min(spin, timeoutMs * System.Diagnostics.Stopwatch.Frequency / 1000);
        }

        bool pollIo = HasIoToPoll;
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + spin;
        int ready = 0;
        while (!_inbox.HasItems && !_stopRequested && System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            // A poll on the ring also runs the completions it reaps (CompletionIo), which queue
            // the greenlets they resume without counting as ready events.
            if (pollIo && ((ready = _poller.Poll(_readyEvents, 0)) > 0 || _runQueue.Count > 0))
            {
                break;
            }

            Thread.SpinWait(16);
        }

        Interlocked.Exchange(ref _wakeSignalled, 0);
        return ready > 0 ? ready : _inbox.HasItems || _stopRequested || _runQueue.Count > 0 ? 0 : -1;
    }

    /// <summary>Jumps a virtual clock to the next timer when nothing else can happen; true when it moved.</summary>
    private bool AdvanceVirtualClock(int callerTimeoutMs)
    {
        if (_virtualClock is null || _lastIoEvents > 0 || _runQueue.Count > 0 || _inbox.HasItems || _stopRequested)
        {
            return false;
        }

        if (!_timers.TryPeekDeadline(out long target) || target <= _now)
        {
            return false;
        }

        // The jump replaces the sleep a real clock would take, so the caller's bound applies.
        if (callerTimeoutMs >= 0)
        {
            target = Math.Min(target, _now + (callerTimeoutMs * TimeSpan.TicksPerMillisecond));
        }

        _virtualClock.AdvanceTo(target);
        return true;
    }

    private void DrainInbox()
    {
        // A full fence (not a release store) between clearing the flag and the unlocked peek:
        // an item the peek misses was enqueued after it, so its producer sees the cleared flag
        // and wakes the next poll. With a plain store the peek could overtake it.
        Interlocked.Exchange(ref _wakeSignalled, 0);
        if (_inbox.HasItems)
        {
            _inbox.DrainTo(ref _runQueue);
        }
    }

    private void RunReadyQueue()
    {
        if (_observesOutsideCalls) // a monitor or slow-callback timing: both watch the ready phase too
        {
            RunReadyQueueMonitored();
            return;
        }

        // Only what was ready when the phase began: work queued now waits for the next
        // iteration, so a callback that keeps re-posting itself cannot starve timers or I/O.
        // Each item runs straight from this frame, not through RunItem and InvokeItem: a step
        // that made a system call returns through every frame below it, and after a system call
        // each return costs a mispredicted branch (see ARCHITECTURE.md, "Toward C speed"). So the
        // handler that InvokeItem puts around one item is put around the whole batch here, and
        // the batch goes on after an item that threw.
        int count = _runQueue.Count;
        while (count > 0)
        {
            Greenlet? owner = null;
            try
            {
                for (; count > 0; count--)
                {
                    ReadyItem item = _runQueue.Dequeue();
                    owner = item.Owner;
                    if (!ReferenceEquals(owner, _currentOwner))
                    {
                        SwitchTo(owner);
                    }

                    _callbacksRun++;
                    item.Invoke();
                    owner?.AfterStep();
                }
            }
            catch (Exception ex)
            {
                count--;
                ReportUnhandled(ex, owner);
            }
        }

        SwitchTo(null);
    }

    /// <summary>The ready phase with a blocked-loop monitor, slow-callback timing, or both.</summary>
    private void RunReadyQueueMonitored()
    {
        if (_watchdog is not null)
        {
            RunReadyQueueWatched();
            return;
        }

        _inReadyPhase = true; // no monitor reads it: it tells outside calls that the item is timed already
        for (int count = _runQueue.Count; count > 0; count--)
        {
            ReadyItem item = _runQueue.Dequeue();
            RunItem(in item);
        }

        _inReadyPhase = false;
        SwitchTo(null);
    }

    /// <summary>
    /// The ready phase with a blocked-loop monitor: each item stays in its run-queue slot while it
    /// runs, where the monitor finds it once the loop is held, and the phase is flagged; the loop
    /// thread stores nothing more per callback than without a monitor.
    /// </summary>
    private void RunReadyQueueWatched()
    {
        Volatile.Write(ref _inReadyPhase, true);
        for (int count = _runQueue.Count; count > 0; count--)
        {
            ReadyItem item = _runQueue.PeekHead();
            RunItem(in item);
            _runQueue.DropHead();
        }

        Volatile.Write(ref _inReadyPhase, false); // between phases: the loop is about to poll
        SwitchTo(null);
    }

    private void RunItem(in ReadyItem item)
    {
        if (!ReferenceEquals(item.Owner, _currentOwner))
        {
            SwitchTo(item.Owner);
        }

        _callbacksRun++;
        if (_slowThreshold != 0)
        {
            RunTimed(in item);
            return;
        }

        InvokeItem(in item);
    }

    /// <summary>Runs one item and, when it is a greenlet's step, lets the greenlet see whether its body finished.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void InvokeItem(in ReadyItem item)
    {
        try
        {
            item.Invoke();
            item.Owner?.AfterStep();
        }
        catch (Exception ex)
        {
            ReportUnhandled(ex, item.Owner);
        }
    }

    // The state a loop source will resume during a greenlet's first step (see Greenlet.NoteLoopResume):
    // one greenlet starts at a time on a loop, so the loop holds it until the start reads it.
    private object? _startResumeState;

    internal void NoteStartResumeState(object? state) => _startResumeState = state;

    internal object? TakeStartResumeState()
    {
        object? state = _startResumeState;
        _startResumeState = null;
        return state;
    }

    private void SwitchTo(Greenlet? owner)
    {
        _currentOwner = owner;
        SynchronizationContext.SetSynchronizationContext(owner is null ? _context : owner.Context);
    }

    // ---- entering and leaving ----

    private void EnterRun()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Loop));
        }

        int me = Environment.CurrentManagedThreadId;
#pragma warning disable CS0420 // Interlocked on a volatile field is fine
        int running = Interlocked.CompareExchange(ref _runningThreadId, me, 0);
#pragma warning restore CS0420
        if (running != 0)
        {
            ThrowHelper.ThrowInvalidOperation(running == me
                ? "The loop is already running on this thread (Run, RunOnce and JoinAll cannot be nested inside a callback or greenlet)."
                : "The loop is already running on another thread.");
        }

        // A snapshot another thread began reading while the loop was idle ends before this run
        // starts (see _inspector): both sides claim, then look at the other's claim.
        if (Volatile.Read(ref _inspector) != 0)
        {
            if (_inspector == me)
            {
                _runningThreadId = 0;
                ThrowHelper.ThrowInvalidOperation("The loop cannot run inside a snapshot of it (GetGreenlets called a name source or a wait's description that ran the loop).");
            }

            WaitOutInspection();
        }

        if (_ownerThreadId != me)
        {
            // Taking the loop over: wait out a direct touch the owner began before it could see
            // this thread running the loop.
            WaitOutIdleTouches();
        }

        _ownerThreadId = me;
        Volatile.Write(ref _runningStack, ThreadStack.Current);

        // While no thread ran the loop it waited for no work and held nothing: that time is idle
        // for the utilization gauge, and the delay probe, if it came due meanwhile, is due now.
        if (_inUntimedPoll)
        {
            EndUntimedIdle();
        }

        if (_pollStartedAt != 0)
        {
            EndIdle(_pollStartedAt);
        }

        if (_probeDeadline != 0)
        {
            _probeDeadline = Math.Max(_probeDeadline, ReadClock());
        }

        _savedLoop = t_current;
        _savedContext = SynchronizationContext.Current;
        t_current = this;
        _currentOwner = null;
        SynchronizationContext.SetSynchronizationContext(_context);
    }

    private void ExitRun()
    {
        // Requests queued since the iteration's io_uring_enter (a small send that SendAsync
        // reported as handed over) would otherwise wait for the next Run or RunOnce, which may
        // never come: the kernel gets them before the loop stops turning.
        if (_completionIo is { } completions && !_disposed)
        {
            completions.Submit();
        }

        if (LoopMetrics.AnyPerIterationEnabled)
        {
            FlushMetrics(); // what Run or RunOnce did is counted by the time it returns
        }

        // Idle until the next Run: timed when utilization is listened to, else marked, as a poll is.
        if (LoopMetrics.Utilization.Enabled)
        {
            BeginIdle();
        }
        else
        {
            _inUntimedPoll = true;
        }

        _currentOwner = null;
        t_current = _savedLoop;
        SynchronizationContext.SetSynchronizationContext(_savedContext);
        _savedLoop = null;
        _savedContext = null;
        Volatile.Write(ref _runningStack, null); // before the loop is free: no other thread may take this range for its own
        _runningThreadId = 0;
    }

    private Loop? _savedLoop;
    private SynchronizationContext? _savedContext;
    private bool _pollerClosed;

    private bool ConsumeStop()
    {
        if (!_stopRequested)
        {
            return false;
        }

        _stopRequested = false;
        return true;
    }

    /// <summary>
    /// Run(main): enters the loop first, so a call that may not run it (nested, or while another
    /// thread runs it) throws before main is spawned, then spawns main and runs until it completes.
    /// </summary>
    private TGreenlet RunMain<TBody, TGreenlet>(TBody main, Func<Loop, TBody, TGreenlet> spawn)
        where TGreenlet : Greenlet
    {
        EnterRun();
        try
        {
            TGreenlet greenlet = spawn(this, main);
            greenlet.Name = "main";
            greenlet.MarkFailureRaisedByOwner();
            while (!greenlet.IsCompleted)
            {
                RunIteration(Timeout.Infinite);
                if (ConsumeStop() && !greenlet.IsCompleted)
                {
                    ThrowHelper.ThrowInvalidOperation("The loop was stopped before the main greenlet completed.");
                }
            }

            return greenlet;
        }
        finally
        {
            ExitRun();
        }
    }

    private bool HasPendingWork =>
        _runQueue.Count > 0 || _inbox.HasItems || _timers.Count > 0 || _registrationCount > 0 || _liveCount > 0;

    // ---- thread checks ----

    // The stack of the thread running the loop, null while none does (see ThreadStack): on that
    // thread the checks below compare a local's address with it and read no thread id.
    private ThreadStack? _runningStack;

    /// <summary>True when the calling thread runs the loop, by its stack alone: no thread-id lookup.</summary>
    private bool RunsOnCallerStack => Volatile.Read(ref _runningStack) is { } stack && stack.HoldsCaller();

    /// <summary>True when the calling thread is running this loop.</summary>
    internal bool IsOnLoopThread => RunsOnCallerStack || _runningThreadId == Environment.CurrentManagedThreadId;

    /// <summary>True on the loop thread, or on the thread that last ran the loop while nobody runs it.</summary>
    internal bool IsOwnerThread
    {
        get
        {
            if (RunsOnCallerStack)
            {
                return true;
            }

            int me = Environment.CurrentManagedThreadId;
            int running = _runningThreadId;
            return running == me || (running == 0 && _ownerThreadId == me);
        }
    }

    // The owner's direct touches of loop state while no thread runs the loop (a post, a spawn or a
    // kill before Run or between RunOnce calls) are counted here; only the owner thread writes the
    // count. A thread that takes the loop over (EnterRun on a thread that does not own it) makes
    // every thread's stores visible with a process-wide barrier and then waits for the count to
    // be zero, so the owner never writes loop state that the new thread already reads: a Dekker
    // handshake whose fence only the rare side pays (the owner's side is two plain stores).
    private int _idleTouches;

    /// <summary>
    /// Runs <paramref name="action"/>(<paramref name="state"/>) now when the calling thread may touch
    /// loop state: the thread running the loop, or its owner while no thread runs it (a thread
    /// taking the loop over meanwhile waits for the action to end). False when it may not: the
    /// caller hands the work to the loop instead. Any thread.
    /// </summary>
    internal bool TryRunHere<TState>(Action<TState> action, TState state)
    {
        // The running thread is found by its stack first; the thread id is read only off it.
        int me;
        int running;
        if (RunsOnCallerStack || (running = _runningThreadId) == (me = Environment.CurrentManagedThreadId))
        {
            action(state);
            return true;
        }

        if (running != 0 || _ownerThreadId != me || !BeginIdleTouch())
        {
            return false;
        }

        try
        {
            action(state);
        }
        finally
        {
            EndIdleTouch();
        }

        return true;
    }

    /// <summary>
    /// The owner thread, while no thread runs the loop, starts a direct touch; false when a thread
    /// has just taken the loop over. A snapshot that another thread reads meanwhile is waited out.
    /// </summary>
    private bool BeginIdleTouch()
    {
        while (true)
        {
            Volatile.Write(ref _idleTouches, _idleTouches + 1);
            if (_runningThreadId == 0 && Volatile.Read(ref _inspector) == 0) // volatile reads
            {
                return true;
            }

            Volatile.Write(ref _idleTouches, _idleTouches - 1);
            if (_runningThreadId != 0)
            {
                return false;
            }

            WaitOutInspection();
        }
    }

    /// <summary>Waits until no other thread reads a snapshot of the loop (see <see cref="_inspector"/>).</summary>
    private void WaitOutInspection()
    {
        SpinWait spin = default;
        while (Volatile.Read(ref _inspector) != 0)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>
    /// For a thread that has just claimed the loop without owning it: makes every thread's stores
    /// visible, then waits until a direct touch the owner began before it could see the claim has
    /// ended (see <see cref="_idleTouches"/>).
    /// </summary>
    private void WaitOutIdleTouches()
    {
        Interlocked.MemoryBarrierProcessWide();
        SpinWait spin = default;
        while (Volatile.Read(ref _idleTouches) != 0)
        {
            spin.SpinOnce();
        }
    }

    // A thread that neither runs nor owns the loop may read a snapshot of it while it is idle
    // (GetGreenlets from a monitor thread between a driver's RunOnce calls). It holds the loop for
    // the read: its thread id is here meanwhile. It claims this field, then checks that no thread
    // runs the loop, and waits out a direct touch the owner had begun (the process-wide barrier
    // of a takeover); a thread starting a run claims the loop, then waits for this to be clear,
    // and the owner's next direct touch waits too.
    private int _inspector;

    /// <summary>
    /// Reads loop state for the calling thread: on the loop thread directly; for the owner of an idle
    /// loop as a direct touch; for any other thread while the loop is idle, holding the loop (a run
    /// started meanwhile waits until the read ends). Throws when another thread runs the loop.
    /// </summary>
    private TResult Inspect<TResult>(Func<Loop, TResult> read, string member)
    {
        if (IsOnLoopThread)
        {
            return read(this);
        }

        int me = Environment.CurrentManagedThreadId;
        if (Volatile.Read(ref _inspector) == me)
        {
            return read(this); // the read itself asked again (a name source, a wait's description)
        }

        if (_ownerThreadId == me)
        {
            if (!BeginIdleTouch())
            {
                ThrowHelper.ThrowWrongThread(member);
            }

            try
            {
                return read(this);
            }
            finally
            {
                EndIdleTouch();
            }
        }

        SpinWait other = default;
        while (Interlocked.CompareExchange(ref _inspector, me, 0) != 0)
        {
            other.SpinOnce();
        }

        try
        {
            if (_runningThreadId != 0)
            {
                ThrowHelper.ThrowWrongThread(member);
            }

            WaitOutIdleTouches();
            return read(this);
        }
        finally
        {
            Volatile.Write(ref _inspector, 0);
        }
    }

    private void EndIdleTouch() => Volatile.Write(ref _idleTouches, _idleTouches - 1);

    /// <summary>
    /// True on the thread running the loop or, while nobody runs it, on the thread that owns it
    /// (the one that created it or last ran it): the threads allowed to touch loop state. Any thread.
    /// </summary>
    /// <returns>True when the calling thread may use the loop's loop-thread-only members.</returns>
    public bool CheckAccess() => IsOwnerThread;

    /// <summary>
    /// Throws unless the calling thread may use the loop's loop-thread-only members (see
    /// <see cref="CheckAccess"/>). Any thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called off the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void VerifyAccess()
    {
        if (!IsOwnerThread)
        {
            ThrowHelper.ThrowWrongThread(nameof(VerifyAccess));
        }

        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Loop));
        }
    }

    /// <summary>
    /// The greenlet the running code serves: the owner of the ready item that runs now, else the
    /// greenlet flowing in the ExecutionContext (a continuation scheduled by a library, not by the loop).
    /// </summary>
    internal Greenlet? CurrentGreenlet => _currentOwner ?? Greenlet.Ambient(this);

    /// <summary>True when work attributed to <paramref name="owner"/> waits in the run queue. Loop thread.</summary>
    internal bool HasQueuedWorkOf(Greenlet owner) => _runQueue.ContainsOwner(owner);

    /// <summary>Throws when called off the loop thread while it runs, or after Dispose.</summary>
    internal void VerifyAccess(string member)
    {
        VerifyThread(member);
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Loop));
        }
    }

    /// <summary>Throws when called off the loop thread while it runs; unlike <see cref="VerifyAccess(string)"/>, fine after Dispose.</summary>
    internal void VerifyThread(string member)
    {
        int running = _runningThreadId;
        if (running != 0 && !RunsOnCallerStack && running != Environment.CurrentManagedThreadId)
        {
            ThrowHelper.ThrowWrongThread(member);
        }
    }

    private static int ToTimeoutMs(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.Infinite;
        }

        if (timeout < TimeSpan.Zero)
        {
            ThrowHelper.ThrowNegativeDelay(nameof(timeout), timeout);
        }

        double ms = Math.Ceiling(timeout.TotalMilliseconds);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    private long ReadClock() => _virtualClock is not null
        ? _virtualClock.GetTimestamp()
        : _clock.GetElapsedTime(_originTimestamp).Ticks;
}
