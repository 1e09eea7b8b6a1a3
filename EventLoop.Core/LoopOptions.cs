namespace EventLoop;

/// <summary>Settings of a <see cref="Loop"/>, fixed when the loop is created.</summary>
public sealed class LoopOptions
{
    /// <summary>
    /// The clock the loop reads (monotonic timestamps) in real-time mode. Defaults to
    /// <see cref="TimeProvider.System"/>. Ignored when <see cref="VirtualTime"/> is set.
    /// </summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Runs the loop on a virtual clock: when nothing is ready and no descriptor is registered
    /// (or a zero-timeout poll finds nothing), the clock jumps straight to the next timer instead
    /// of sleeping. A one-hour <see cref="Loop.Sleep"/> completes at once.
    /// </summary>
    public bool VirtualTime { get; init; }

    /// <summary>The readiness back end; <see cref="PollerKind.Auto"/> picks the best one for the platform.</summary>
    public PollerKind Poller { get; init; }

    /// <summary>
    /// Receives exceptions thrown by callbacks and failures of greenlets, when they happen.
    /// The loop keeps running. When null, they are written to standard error.
    /// </summary>
    public Action<Exception>? UnhandledException { get; init; }

    /// <summary>
    /// When set, a callback or greenlet step that holds the loop longer than this is reported
    /// (to <see cref="SlowCallback"/>, or standard error), naming the greenlet where known: what
    /// the ready phase runs, and the code the loop calls outside it (a
    /// <see cref="IReadinessHandler"/>, a completion handler, an <see cref="Loop.OnBeforePoll"/> hook).
    /// </summary>
    public TimeSpan? SlowCallbackThreshold { get; init; }

    /// <summary>Receives slow-callback reports; when null they are written to standard error.</summary>
    public Action<SlowCallbackInfo>? SlowCallback { get; init; }

    /// <summary>
    /// The loop's name, shown in greenlet dumps, blocked-loop reports and as the
    /// <c>eventloop.loop.name</c> tag of its metrics. Null: <c>loop-&lt;n&gt;</c>, numbered per process.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// When set, a monitor thread watches the loop and reports (to <see cref="BlockedLoop"/>, or
    /// standard error) a callback or greenlet step that holds the loop longer than this, while it
    /// still holds it, and once more with the total when it lets go. Costs the loop thread two
    /// field stores per iteration and nothing per callback.
    /// </summary>
    public TimeSpan? BlockedLoopThreshold { get; init; }

    /// <summary>
    /// Receives blocked-loop reports on the monitor thread; when null they are written to standard
    /// error. It must not wait for the loop (the loop is blocked).
    /// </summary>
    public Action<BlockedLoopInfo>? BlockedLoop { get; init; }

    /// <summary>
    /// Before a poll that would block, the loop spins for up to this long (never longer than the
    /// poll would wait) watching for work posted from other threads and, while descriptors are
    /// registered, for readiness through non-blocking polls, as Seastar's reactor polls before it
    /// sleeps. Work posted meanwhile (another loop's <see cref="Loop.InvokeAsync(Func{Task})"/>
    /// or its reply, a <see cref="Loop.Post(Action)"/>, <see cref="Loop.Stop"/>) is picked up
    /// without a kernel wake-up on either side: the poster skips its eventfd write and the loop its
    /// sleep, which takes a cross-loop round trip from two kernel wake-ups to none. A socket that
    /// becomes ready meanwhile is handled as soon as the next poll sees it, and the peer's send does
    /// not have to wake a sleeping thread. The price is CPU: up to this much busy time each time the
    /// loop goes idle (the <c>eventloop.loop.utilization</c> gauge counts it as waiting, as it
    /// counts the poll; a spin that runs out leaves the poll only what is left of its timeout, so
    /// timers stay on time). Zero (the default) never spins; a few tens of microseconds suit loops of a
    /// <see cref="LoopGroup"/> that call each other often, and servers whose clients wait for each
    /// reply before they send again.
    /// </summary>
    public TimeSpan SpinBeforePoll { get; init; }

    /// <summary>
    /// Whether a greenlet's body carries the greenlet in its <see cref="ExecutionContext"/> (the
    /// default, true), so that work code on other threads hands back to the loop on the body's
    /// behalf is the greenlet's: the loop waits that HttpClient over <c>LoopHttp</c>, or a
    /// library's thread-pool continuation or a <see cref="Task.Run(Action)"/> calling an
    /// <c>AsStream()</c> stream, start for the body are aborted by <see cref="Greenlet.Kill"/>,
    /// <see cref="Loop.FailAfter(TimeSpan)"/> and <see cref="Loop.MoveOnAfter(TimeSpan, Func{Task})"/>
    /// like its own. False runs each body in the context it was spawned from, with no greenlet in
    /// it: every step of the body resumes without the runtime's context switch, and a greenlet
    /// costs one <see cref="ExecutionContext"/> (72 B) less. Work handed back from other threads
    /// then belongs to no greenlet: a kill or a deadline that comes while the body awaits it
    /// ends the greenlet as any foreign await does (its body detached, see
    /// <see cref="Greenlet.Kill"/>), and that work goes on. Waits the body starts on the loop
    /// thread are its own either way. For servers whose greenlets do all their I/O on the loop.
    /// </summary>
    public bool TrackGreenletsAcrossThreads { get; init; } = true;

    /// <summary>
    /// A copy with another name and unhandled-exception handler (a <see cref="LoopGroup"/>'s
    /// loops). Lists every property: a property added above must be added here too.
    /// </summary>
    internal LoopOptions CopyWith(string name, Action<Exception>? unhandledException) => new()
    {
        TimeProvider = TimeProvider,
        VirtualTime = VirtualTime,
        Poller = Poller,
        UnhandledException = unhandledException,
        SlowCallbackThreshold = SlowCallbackThreshold,
        SlowCallback = SlowCallback,
        Name = name,
        BlockedLoopThreshold = BlockedLoopThreshold,
        BlockedLoop = BlockedLoop,
        SpinBeforePoll = SpinBeforePoll,
        TrackGreenletsAcrossThreads = TrackGreenletsAcrossThreads,
    };
}
