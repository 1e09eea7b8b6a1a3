namespace EventLoop.Tests;

/// <summary>
/// A liveness bound on a loop run: once <c>bound</c> has passed, a timer thread stops the loop
/// and records that it had to, so a test that expects the loop to finish its work by itself can
/// assert <see cref="Fired"/> is false instead of hanging.
/// </summary>
internal sealed class LoopRescue : IDisposable
{
    private readonly Timer _timer;
    private volatile bool _fired;

    public LoopRescue(Loop loop, TimeSpan bound)
    {
        _timer = new Timer(
            _ =>
            {
                _fired = true;
                loop.Stop();
            },
            null,
            bound,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>True once the bound passed and the loop was stopped from outside.</summary>
    public bool Fired => _fired;

    public void Dispose() => _timer.Dispose();
}
