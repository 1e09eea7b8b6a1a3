namespace EventLoop;

public sealed partial class Loop
{
    // Copy-on-write: registering and removing are rare, the iteration reads the array once, and a
    // hook removed by an earlier hook in the same pass is skipped through its own flag.
    private BeforePollHook[] _beforePoll = [];

    /// <summary>
    /// Runs <paramref name="callback"/> on the loop thread once per iteration, after the due timers
    /// and just before the loop decides how long to poll, like libuv's prepare handle or Redis's
    /// <c>beforeSleep</c>. Work the callback queues (a post, a zero-delay timer, a completed wait)
    /// makes that iteration's poll non-blocking. Hooks run in registration order; one that throws is
    /// reported to <see cref="LoopOptions.UnhandledException"/> and stays registered. A hook does not
    /// keep the loop alive: <see cref="RunOnce"/> reports no pending work when only hooks remain.
    /// Loop thread, or while no thread runs the loop.
    /// </summary>
    /// <param name="callback">Called before each poll; keep it short, it runs on every iteration.</param>
    /// <returns>Disposing it removes the hook (idempotent; loop thread); a hook removed during a pass does not run later in that pass.</returns>
    /// <exception cref="InvalidOperationException">Called from a thread other than the one running the loop.</exception>
    public IDisposable OnBeforePoll(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        VerifyAccess(nameof(OnBeforePoll));
        var hook = new BeforePollHook(this, callback);
        _beforePoll = [.. _beforePoll, hook];
        return hook;
    }

    private void RunBeforePollHooks()
    {
        BeforePollHook[] hooks = _beforePoll;
        foreach (BeforePollHook hook in hooks)
        {
            if (hook.IsRemoved)
            {
                continue;
            }

            long started = _observesOutsideCalls ? BeginOutsideCall(hook.Callback) : 0;
            try
            {
                hook.Callback();
            }
            catch (Exception ex)
            {
                ReportUnhandled(ex, null);
            }
            finally
            {
                if (_observesOutsideCalls)
                {
                    EndOutsideCall(hook.Callback, started);
                }
            }
        }
    }

    private void RemoveBeforePoll(BeforePollHook hook) =>
        _beforePoll = Array.FindAll(_beforePoll, h => !ReferenceEquals(h, hook));

    /// <summary>One registration made by <see cref="OnBeforePoll"/>.</summary>
    private sealed class BeforePollHook(Loop loop, Action callback) : IDisposable
    {
        public Action Callback { get; } = callback;

        public bool IsRemoved { get; private set; }

        public void Dispose()
        {
            if (IsRemoved)
            {
                return;
            }

            loop.VerifyAccess(nameof(Dispose));
            IsRemoved = true;
            loop.RemoveBeforePoll(this);
        }
    }
}
