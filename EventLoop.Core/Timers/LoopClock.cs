namespace EventLoop.Timers;

/// <summary>
/// <see cref="Loop.Time"/> in real-time mode: readings come from the clock the loop was given
/// (<see cref="LoopOptions.TimeProvider"/>, or the system clock), and timers created through it
/// (<c>Task.Delay(d, loop.Time)</c>, <c>new CancellationTokenSource(d, loop.Time)</c>,
/// <see cref="PeriodicTimer"/>) are loop timers whose callbacks run on the loop thread, exactly
/// as the <see cref="VirtualClock"/> hands them out in virtual-time mode. One clock, two modes:
/// code written against <c>loop.Time</c> behaves the same under test and in production.
/// </summary>
internal sealed class LoopClock : TimeProvider
{
    private readonly Loop _loop;
    private readonly TimeProvider _source;

    public LoopClock(Loop loop, TimeProvider source)
    {
        _loop = loop;
        _source = source;
    }

    public override TimeZoneInfo LocalTimeZone => _source.LocalTimeZone;

    public override long TimestampFrequency => _source.TimestampFrequency;

    public override long GetTimestamp() => _source.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => _source.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new LoopTimer(_loop, callback, state, dueTime, period);
    }
}
