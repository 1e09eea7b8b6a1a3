namespace EventLoop.Timers;

/// <summary>
/// The loop's clock in <see cref="LoopOptions.VirtualTime"/> mode: it stands still until the
/// loop jumps it to the next timer. Exposed as <see cref="Loop.Time"/>, so timers created
/// through it (PeriodicTimer, CancellationTokenSource, Task.Delay with a TimeProvider) are
/// loop timers and fire on virtual time.
/// </summary>
internal sealed class VirtualClock : TimeProvider
{
    private readonly Loop _loop;
    private readonly DateTimeOffset _epoch;
    private long _ticks;

    public VirtualClock(Loop loop, DateTimeOffset epoch)
    {
        _loop = loop;
        _epoch = epoch;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _ticks);

    // A jump to a saturated deadline (Sleep(TimeSpan.MaxValue): long.MaxValue ticks) goes past
    // what a DateTimeOffset can hold; the wall clock then reads its maximum instead of throwing.
    public override DateTimeOffset GetUtcNow()
    {
        long ticks = Volatile.Read(ref _ticks);
        return ticks >= DateTimeOffset.MaxValue.UtcTicks - _epoch.UtcTicks ? DateTimeOffset.MaxValue : _epoch.AddTicks(ticks);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new LoopTimer(_loop, callback, state, dueTime, period);
    }

    /// <summary>Moves the clock forward to <paramref name="ticks"/>; never backwards. Loop thread.</summary>
    public void AdvanceTo(long ticks)
    {
        if (ticks > _ticks)
        {
            Volatile.Write(ref _ticks, ticks);
        }
    }
}
