using EventLoop.Sync;

namespace EventLoop.Coroutines;

/// <summary>
/// One <see cref="Loop.JoinAll"/> / <see cref="Loop.JoinAllAsync"/>: the unfinished greenlets are
/// counted into a <see cref="GreenletGroup"/> of its own (a counting one: the array here is the
/// list), whose join does the fail-fast on the first failure and the loop-timer timeout; the
/// result is the greenlets that finished, in input order. Loop thread, except <see cref="Task"/>.
/// </summary>
internal sealed class JoinOperation
{
    private readonly Greenlet[] _greenlets;
    private readonly GreenletGroup _group;
    private readonly bool _raiseError;
    private readonly TaskCompletionSource<IReadOnlyList<Greenlet>> _completion = new();

    public JoinOperation(Loop loop, Greenlet[] greenlets, bool raiseError)
    {
        _greenlets = greenlets;
        _group = GreenletGroup.CreateCounting(loop);
        _raiseError = raiseError;
    }

    public Task<IReadOnlyList<Greenlet>> Task => _completion.Task;

    public bool IsCompleted => _completion.Task.IsCompleted;

    /// <summary>The timeout of a join handed to the loop from another thread, for its start.</summary>
    public TimeSpan? RemoteTimeout { get; set; }

    public void Start(TimeSpan? timeout) => _ = RunAsync(timeout);

    /// <summary>
    /// Ends a join whose start never ran because the loop was disposed first: its greenlets were
    /// killed by then, so it completes with those that finished. Any thread; idempotent.
    /// </summary>
    public void CompleteUnstarted() => _completion.TrySetResult(Array.FindAll(_greenlets, static g => g.IsCompleted));

    /// <summary>Ends the join now with whatever finished (the loop was stopped).</summary>
    public void Abandon() => _group.ReleaseCounted(_greenlets);

    private async Task RunAsync(TimeSpan? timeout)
    {
        try
        {
            foreach (Greenlet greenlet in _greenlets)
            {
                if (_raiseError && greenlet.Failed)
                {
                    ExceptionHelper.ThrowIfNotNull(greenlet.Exception);
                }
            }

            foreach (Greenlet greenlet in _greenlets)
            {
                if (!greenlet.IsCompleted)
                {
                    _group.AddCounted(greenlet);
                }
            }

            if (timeout is { } t && t != Timeout.InfiniteTimeSpan && t < TimeSpan.Zero)
            {
                timeout = TimeSpan.Zero;
            }

            try
            {
                await _group.JoinAsync(timeout, _raiseError).ConfigureAwait(true);
            }
            finally
            {
                // Timed out or failed fast: long-lived greenlets must not keep a stale join's group.
                _group.ReleaseCounted(_greenlets);
            }

            var finished = new List<Greenlet>(_greenlets.Length);
            foreach (Greenlet greenlet in _greenlets)
            {
                if (greenlet.IsCompleted)
                {
                    finished.Add(greenlet);
                }
            }

            _completion.TrySetResult(finished);
        }
        catch (Exception ex)
        {
            _completion.TrySetException(ex);
        }
    }
}
