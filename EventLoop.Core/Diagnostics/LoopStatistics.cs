namespace EventLoop;

/// <summary>A snapshot of a loop's counters, from <see cref="Loop.Statistics"/>.</summary>
/// <param name="Iterations">Iterations run since the loop was created.</param>
/// <param name="CallbacksRun">Callbacks (including greenlet steps) run since the loop was created.</param>
/// <param name="TimersPending">Timers scheduled and not yet fired or cancelled.</param>
/// <param name="Registrations">Descriptors registered with the poller (the loop's own wake-up descriptor excluded).</param>
/// <param name="LiveGreenlets">Greenlets spawned and not yet finished.</param>
/// <param name="ReadyCallbacks">Callbacks waiting in the run queue.</param>
public readonly record struct LoopStatistics(
    long Iterations,
    long CallbacksRun,
    int TimersPending,
    int Registrations,
    int LiveGreenlets,
    int ReadyCallbacks);
