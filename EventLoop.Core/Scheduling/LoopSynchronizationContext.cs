namespace EventLoop;

/// <summary>
/// The <see cref="SynchronizationContext"/> a <see cref="Loop"/> installs while it runs. Every
/// greenlet has its own instance bound to it, so a continuation that resumes through
/// <see cref="Post"/> runs on the loop thread and is attributed to the greenlet it belongs to
/// (kill, timeouts and slow-callback reports rely on that).
/// </summary>
public sealed class LoopSynchronizationContext : SynchronizationContext
{
    private readonly Loop _loop;
    private readonly Greenlet? _owner;

    internal LoopSynchronizationContext(Loop loop, Greenlet? owner)
    {
        _loop = loop;
        _owner = owner;
    }

    /// <summary>The loop this context posts to.</summary>
    public Loop Loop => _loop;

    internal Greenlet? Owner => _owner;

    /// <summary>Queues <paramref name="d"/> to run on the loop thread, FIFO. Any thread.</summary>
    /// <param name="d">The callback.</param>
    /// <param name="state">Its argument.</param>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        _loop.Enqueue(d, state, _owner);
    }

    /// <summary>
    /// Runs <paramref name="d"/> on the loop thread and waits for it: inline when called on the
    /// loop thread, else posted and waited for. An exception it throws is rethrown here.
    /// </summary>
    /// <param name="d">The callback.</param>
    /// <param name="state">Its argument.</param>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (_loop.IsOnLoopThread)
        {
            d(state);
            return;
        }

        var call = new SendCall(d, state);
        _loop.Enqueue(static s => ((SendCall)s!).Run(), call, _owner);
        call.Done.Wait();
        call.Done.Dispose();
        call.Error?.Throw();
    }

    /// <summary>Returns this instance: the context carries no per-copy state.</summary>
    /// <returns>This context.</returns>
    public override SynchronizationContext CreateCopy() => this;

    private sealed class SendCall(SendOrPostCallback callback, object? state)
    {
        public readonly ManualResetEventSlim Done = new();
        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Error;

        public void Run()
        {
            try
            {
                callback(state);
            }
            catch (Exception ex)
            {
                Error = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                Done.Set();
            }
        }
    }
}
