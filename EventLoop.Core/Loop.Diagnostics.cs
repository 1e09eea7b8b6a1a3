using System.Diagnostics;
using EventLoop.Scheduling;

namespace EventLoop;

public sealed partial class Loop
{
    // A busy loop (never blocking in its poll) hands its counters to the meter every 64 iterations.
    private const long MetricsFlushMask = 63;

    private static int s_loopCount;

    private readonly long _slowThreshold; // Stopwatch ticks; 0 = off (non-zero: RunItem times each callback)
    private readonly bool _observesOutsideCalls; // a monitor or slow-callback timing: see ObservesOutsideCalls
    private readonly string _name;
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly LoopWatchdog? _watchdog;
    private readonly long _createdStopwatch;

    // The watchdog's view of the loop thread: true while a ready phase runs callbacks. The monitor
    // thread reads it with the loop's callback and iteration counters and, once the loop is held,
    // the running item, which stays in its run-queue slot while it runs: the loop thread stores
    // nothing per callback for it.
    private bool _inReadyPhase;

    // With a monitor, user code that runs outside the ready phase (a before-poll hook, a readiness
    // or completion handler) raises the same flag and is named here, and each such call counts in _outsideCalls,
    // so a hook or handler that holds the loop is reported like a callback that does.
    private object? _runningOutside;
    private long _outsideCalls;

    // Metrics: what was handed to the meter so far, the idle time spent in polls, the delay probe.
    private long _spawnedTotal;
    private long _flushedIterations;
    private long _flushedCallbacks;
    private long _flushedSpawned;
    private long _idleTicks; // Stopwatch ticks spent waiting for work (in the poll or the spin before it) while utilization is listened to
    private long _pollStartedAt; // Stopwatch timestamp of the wait for work under way (or of the last Run's return while none runs), 0 when none
    private bool _inUntimedPoll; // blocked in a poll (or left by Run) before anyone read utilization
    private int _untimedStretches; // waits for work that ended untimed (no listener then): loop thread writes
    private int _untimedSeen; // _untimedStretches as of the last reading: the gauge's thread
    private long _utilizationWall; // read by the listener's thread
    private long _utilizationIdle;
    private long _probeDeadline; // loop ticks; 0 = the delay probe is off

    /// <summary>
    /// The loop's name (<see cref="LoopOptions.Name"/>, else <c>loop-&lt;n&gt;</c>): in greenlet
    /// dumps, blocked-loop reports and the <c>eventloop.loop.name</c> tag of its metrics. Any thread.
    /// </summary>
    public string Name => _name;

    internal KeyValuePair<string, object?> NameTag => _nameTag;

    /// <summary>
    /// For the watchdog, any thread: 0 while no ready phase runs, else a number that changes with
    /// every callback, every iteration and every hook or readiness handler run (the sum of the
    /// counters), so the same non-zero value seen for a while means one callback holds the loop.
    /// </summary>
    internal long HeldSequence => Volatile.Read(ref _inReadyPhase)
        ? Volatile.Read(ref _callbacksRun) + Volatile.Read(ref _iterations) + Volatile.Read(ref _outsideCalls)
        : 0;

    /// <summary>For the watchdog, once the loop is held: the greenlet and the callback running. Any thread, racy.</summary>
    internal (Greenlet? Greenlet, object? Callback) HeldBy => Volatile.Read(ref _runningOutside) is { } outside
        ? (null, outside)
        : (Volatile.Read(ref _currentOwner), _runQueue.HeadCallbackRacy());

    /// <summary>
    /// Before user code that the loop runs outside the ready phase (a readiness or completion
    /// handler, a before-poll hook), when <see cref="ObservesOutsideCalls"/>: with a monitor, flags
    /// the loop as running a callback, so the monitor can report a hold, and names the code; with
    /// slow callbacks timed, starts the clock. Loop thread.
    /// </summary>
    /// <param name="callback">The hook's delegate or the handler.</param>
    /// <returns>The start, for <see cref="EndOutsideCall"/>; 0 when slow callbacks are not timed.</returns>
    internal long BeginOutsideCall(object callback)
    {
        if (_watchdog is not null)
        {
            Volatile.Write(ref _runningOutside, callback);
            Volatile.Write(ref _outsideCalls, _outsideCalls + 1);
            Volatile.Write(ref _inReadyPhase, true);
        }

        return _slowThreshold != 0 ? Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>After what <see cref="BeginOutsideCall"/> began: reports the call when it was slow. Loop thread.</summary>
    /// <param name="callback">What <see cref="BeginOutsideCall"/> was given.</param>
    /// <param name="started">What <see cref="BeginOutsideCall"/> returned.</param>
    internal void EndOutsideCall(object callback, long started)
    {
        if (_watchdog is not null)
        {
            Volatile.Write(ref _inReadyPhase, false);
            Volatile.Write(ref _runningOutside, null);
        }

        if (started != 0)
        {
            ReportIfSlow(started, null, callback, null);
        }
    }

    /// <summary>
    /// True when user code run now must be bracketed with <see cref="BeginOutsideCall"/>: a
    /// blocked-loop monitor watches this loop or slow callbacks are timed, and no ready phase runs
    /// (inside it, the item running is what holds the loop and what is timed). Loop thread.
    /// </summary>
    internal bool ObservesOutsideCalls => _observesOutsideCalls && !_inReadyPhase;

    internal long LiveGreenletCount => Volatile.Read(ref _liveCount) + Volatile.Read(ref _remoteSpawnCount);

    internal long PendingTimerCount => _timers.Count;

    internal long RegistrationCount => Volatile.Read(ref _registrationCount);

    /// <summary>
    /// A snapshot of the live greenlets (spawned, not finished): id, name, parent, state, age and
    /// what each waits on. Loop thread, or any thread while no thread runs the loop: a
    /// <c>Run</c> or <c>RunOnce</c> that another thread starts meanwhile waits until the snapshot is taken.
    /// </summary>
    /// <returns>The greenlets, oldest spawn last.</returns>
    /// <exception cref="InvalidOperationException">Called off the loop thread while the loop runs.</exception>
    public IReadOnlyList<GreenletInfo> GetGreenlets()
    {
        VerifyAccess(nameof(GetGreenlets));
        return Inspect(static loop => loop.SnapshotGreenlets(), nameof(GetGreenlets));
    }

    private List<GreenletInfo> SnapshotGreenlets()
    {
        var list = new List<GreenletInfo>(_liveCount);
        long now = ReadClock();
        HashSet<Greenlet>? queued = null;
        if (_runQueue.Count > 0)
        {
            // Greenlets whose next step is already queued: woken, not waiting on anything.
            queued = new HashSet<Greenlet>(ReferenceEqualityComparer.Instance);
            _runQueue.AddOwnersTo(queued);
        }

        // Spawned from other threads and not started yet: newer than every live greenlet.
        var pending = new List<Greenlet>();
        AddPendingRemoteSpawnsTo(pending);
        foreach (Greenlet g in pending)
        {
            list.Add(g.Describe(now, _currentOwner, queued: false));
        }

        for (Greenlet? g = _live.First; g is not null; g = _live.NextOf(g))
        {
            list.Add(g.Describe(now, _currentOwner, queued?.Contains(g) == true));
        }

        return list;
    }

    /// <summary>
    /// Writes the live greenlets as a tree by parent, one line each: id, name, state, age and what
    /// it waits on. Loop thread, or while no thread runs the loop.
    /// </summary>
    /// <param name="writer">Where to write.</param>
    /// <exception cref="InvalidOperationException">Called off the loop thread while the loop runs.</exception>
    public void DumpGreenlets(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        GreenletDump.Write(writer, this, GetGreenlets());
    }

    /// <summary>Loop time now, read fresh (a dump's ages and time left).</summary>
    internal long ReadNow() => ReadClock();

    private static int NextLoopNumber() => Interlocked.Increment(ref s_loopCount);

    /// <summary>Once per iteration while some instrument is listened to: counters, the delay probe.</summary>
    private void FlushMetrics()
    {
        Flush(LoopMetrics.Iterations, _iterations, ref _flushedIterations);
        Flush(LoopMetrics.Callbacks, _callbacksRun, ref _flushedCallbacks);
        Flush(LoopMetrics.Spawned, _spawnedTotal, ref _flushedSpawned);
        if (_probeDeadline == 0 && _virtualClock is null && LoopMetrics.Delay.Enabled)
        {
            _probeDeadline = ReadClock() + LoopMetrics.DelayProbeInterval.Ticks;
        }
    }

    private void Flush(System.Diagnostics.Metrics.Counter<long> counter, long total, ref long flushed)
    {
        long delta = total - flushed;
        flushed = total;
        if (delta != 0 && counter.Enabled)
        {
            counter.Add(delta, _nameTag);
        }
    }

    /// <summary>At an iteration's start: when the probe is due, records how late it runs and re-arms it.</summary>
    private void RunDelayProbe()
    {
        long late = _now - _probeDeadline;
        if (late < 0)
        {
            return;
        }

        if (!LoopMetrics.Delay.Enabled)
        {
            _probeDeadline = 0;
            return;
        }

        LoopMetrics.Delay.Record(late / (double)TimeSpan.TicksPerMillisecond, _nameTag);
        _probeDeadline = _now + LoopMetrics.DelayProbeInterval.Ticks;
    }

    /// <summary>Shortens a blocking poll so the delay probe runs when due.</summary>
    private int LimitPollToProbe(int timeoutMs)
    {
        long remaining = _probeDeadline - ReadClock();
        int probeMs = remaining <= 0 ? 0 : (int)Math.Min((remaining + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond, int.MaxValue);
        return timeoutMs < 0 ? probeMs : Math.Min(timeoutMs, probeMs);
    }

    /// <summary>A blocking poll, timed as idle time for the utilization gauge.</summary>
    private int PollTimed(int timeoutMs)
    {
        long start = BeginIdle();
        try
        {
            return _poller.Poll(_readyEvents, timeoutMs);
        }
        finally
        {
            EndIdle(start);
        }
    }

    /// <summary>
    /// Starts a stretch of waiting for work (a blocking poll, or the spin before one) that the
    /// utilization gauge counts as idle; a reading taken meanwhile counts it up to its own time.
    /// </summary>
    /// <returns>The start, for <see cref="EndIdle"/>.</returns>
    private long BeginIdle()
    {
        long start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _pollStartedAt, start);
        return start;
    }

    /// <summary>
    /// Ends a wait for work that was not timed (no listener wanted utilization when it began): a
    /// reading whose window holds one cannot know the loop's busy share. The count goes up before
    /// the mark comes down, and a reading looks at the mark first, so one that no longer sees the
    /// mark sees the count.
    /// </summary>
    private void EndUntimedIdle()
    {
        Volatile.Write(ref _untimedStretches, _untimedStretches + 1);
        Volatile.Write(ref _inUntimedPoll, false);
    }

    /// <summary>Ends the stretch of waiting that began at <paramref name="start"/>.</summary>
    private void EndIdle(long start)
    {
        Volatile.Write(ref _pollStartedAt, 0);
        Volatile.Write(ref _idleTicks, _idleTicks + (Stopwatch.GetTimestamp() - start));
    }

    /// <summary>
    /// Busy share of wall time since the previous reading (the gauge's thread); null when that
    /// share is unknown, because the loop waited for work untimed since then.
    /// </summary>
    internal double? ReadUtilization()
    {
        long now = Stopwatch.GetTimestamp();
        long pollStart = Volatile.Read(ref _pollStartedAt);
        long idle = Volatile.Read(ref _idleTicks) + (pollStart != 0 ? now - pollStart : 0);
        bool inUntimedWait = Volatile.Read(ref _inUntimedPoll);
        int untimed = Volatile.Read(ref _untimedStretches);
        if (inUntimedWait)
        {
            // Idle in a poll that began before the gauge was listened to (or not running since a
            // Run returned then), so not timed: idle since the last reading as far as can be
            // known. Wake a running loop so its next poll is timed; the next Run times itself.
            // The rest of this wait is idle too, so its end does not make the next window unknown.
            _utilizationWall = now;
            _utilizationIdle = idle;
            _untimedSeen = untimed + 1;
            if (IsRunning)
            {
                Wake();
            }

            return 0;
        }

        if (untimed != _untimedSeen)
        {
            // The loop waited for work untimed inside the window (the gauge was not listened to
            // then, e.g. a listener attached while a callback ran): its busy share is unknown.
            // This reading starts the next window and reports nothing.
            _utilizationWall = now;
            _utilizationIdle = idle;
            _untimedSeen = untimed;
            return null;
        }

        long lastWall = _utilizationWall == 0 ? _createdStopwatch : _utilizationWall;
        long wall = now - lastWall;
        long idleDelta = idle - _utilizationIdle;
        _utilizationWall = now;
        _utilizationIdle = idle;
        if (wall <= 0)
        {
            return 0;
        }

        return Math.Clamp(1 - (idleDelta / (double)wall), 0, 1);
    }

    /// <summary>A snapshot of the loop's counters. Loop thread (or while the loop is idle).</summary>
    public LoopStatistics Statistics => new(
        _iterations,
        _callbacksRun,
        _timers.Count,
        _registrationCount,
        (int)LiveGreenletCount,
        _runQueue.Count);

    /// <summary>Sends an exception from a callback, a link or a greenlet to the handler; never throws.</summary>
    internal void ReportUnhandled(Exception error, Greenlet? greenlet)
    {
        Action<Exception>? handler = _options.UnhandledException;
        if (handler is not null)
        {
            try
            {
                handler(error);
                return;
            }
            catch (Exception handlerError)
            {
                WriteError($"EventLoop: the UnhandledException handler threw: {handlerError}");
            }
        }

        WriteError(greenlet is null
            ? $"EventLoop: unhandled exception in a callback: {error}"
            : $"EventLoop: unhandled exception in greenlet #{greenlet.Id} '{greenlet.Name}': {error}");
    }

    /// <summary>Reports a greenlet's failure that nobody rethrows: from its completion, or from an owner that could not deliver it.</summary>
    internal void ReportGreenletFailure(Greenlet greenlet, Exception error)
    {
        if (_options.UnhandledException is null)
        {
            WriteError($"EventLoop: greenlet #{greenlet.Id} '{greenlet.Name}' failed: {error}");
            return;
        }

        ReportUnhandled(error, greenlet);
    }

    /// <summary>Reports a greenlet whose body completed off the loop thread (a ConfigureAwait(false) escape).</summary>
    internal void ReportEscape(Greenlet greenlet) => ReportUnhandled(
        new InvalidOperationException(
            $"Greenlet #{greenlet.Id} '{greenlet.Name}' resumed off the loop thread (thread {Environment.CurrentManagedThreadId}); " +
            "an await with ConfigureAwait(false) let it escape the loop. Its completion was moved back to the loop."),
        greenlet);

    private void RunTimed(in ReadyItem item)
    {
        long start = Stopwatch.GetTimestamp();
        InvokeItem(in item);
        ReportIfSlow(start, item.Owner, item.Callback, item.State);
    }

    /// <summary>Reports what ran since <paramref name="start"/> when it took longer than the threshold.</summary>
    private void ReportIfSlow(long start, Greenlet? owner, object callback, object? state)
    {
        long elapsed = Stopwatch.GetTimestamp() - start;
        if (elapsed > _slowThreshold)
        {
            ReportSlow(new SlowCallbackInfo(Stopwatch.GetElapsedTime(start, start + elapsed), owner, Describe(callback, state)));
        }
    }

    private void ReportSlow(SlowCallbackInfo info)
    {
        Action<SlowCallbackInfo>? handler = _options.SlowCallback;
        if (handler is null)
        {
            WriteError(info.ToString());
            return;
        }

        try
        {
            handler(info);
        }
        catch (Exception ex)
        {
            ReportUnhandled(ex, null);
        }
    }

    /// <summary>
    /// Names what holds the loop: for a greenlet's step the async method of its body (the state
    /// machine of the Task its body returned), else the callback. Monitor thread; racy reads are fine.
    /// </summary>
    internal static string DescribeHeld(Greenlet? greenlet, object? callback)
    {
        if (greenlet is not null)
        {
            return greenlet.BodyTask is { } body ? Describe(body, null) : "the greenlet's body, up to its first await";
        }

        return Describe(callback, null);
    }

    /// <summary>
    /// Names a run-queue item (a slow-callback report, a held loop). An async method's step is the
    /// runtime's state-machine box (the target of its MoveNext action, the state handed to a
    /// value-task continuation, or the Task an async body returned): the box is a generic type
    /// whose last type argument is the compiler's state machine, named after the user's method
    /// (<c>&lt;Handle&gt;d__4</c>, reported as <c>Handle</c>). Only <see cref="object.GetType"/>,
    /// <see cref="Type.GetGenericArguments"/> and <c>Type.Name</c> are used, which trimming and
    /// NativeAOT keep; where reflection metadata is stripped the name degrades to what the runtime
    /// still knows.
    /// </summary>
    internal static string Describe(object? callback, object? state)
    {
        if (callback is null)
        {
            return "(unknown)";
        }

        if (callback is string text)
        {
            return text;
        }

        if (StateMachineName(callback is Delegate d ? d.Target : callback) is { } fromTarget)
        {
            return fromTarget;
        }

        if (StateMachineName(state is Delegate s ? s.Target : state) is { } fromState)
        {
            return fromState;
        }

        return callback is Delegate named
            ? $"{named.Method.DeclaringType?.Name}.{named.Method.Name}"
            : callback.GetType().Name;
    }

    private static string? StateMachineName(object? candidate)
    {
        if (candidate is null || candidate is Delegate)
        {
            return null;
        }

        Type type = candidate.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        Type[] arguments = type.GetGenericArguments();
        Type machine = arguments[^1];
        return typeof(System.Runtime.CompilerServices.IAsyncStateMachine).IsAssignableFrom(machine) ? MethodName(machine.Name) : null;
    }

    /// <summary><c>&lt;HandleAsync&gt;d__5</c> (the compiler's state machine) as <c>HandleAsync</c>, a local function's by its name; other names as they are.</summary>
    private static string MethodName(string name)
    {
        int local = name.IndexOf("g__", StringComparison.Ordinal); // a local function: <Outer>g__Name|0_1
        int bar = name.IndexOf('|', StringComparison.Ordinal);
        if (local >= 0 && bar > local + 3)
        {
            return name[(local + 3)..bar];
        }

        int close = name.IndexOf('>', StringComparison.Ordinal);
        return name.StartsWith('<') && close > 1 && name.AsSpan(close + 1).StartsWith("d__") ? name[1..close] : name;
    }

    private static void WriteError(string message)
    {
        try
        {
            Console.Error.WriteLine(message);
        }
        catch (IOException)
        {
            // Standard error is gone; there is nowhere left to report to.
        }
    }
}
