namespace EventLoop.Coroutines;

/// <summary>
/// One <see cref="Loop.JoinAll"/> / <see cref="Loop.JoinAllAsync"/>: counts the greenlets down,
/// fails fast on the first failure when asked to, and gives up at a loop-timer timeout,
/// returning the greenlets that finished, in input order. Loop thread.
/// </summary>
internal sealed class JoinOperation : IGreenletListener
{
    private readonly Loop _loop;
    private readonly Greenlet[] _greenlets;
    private readonly bool _raiseError;
    private readonly TaskCompletionSource<IReadOnlyList<Greenlet>> _completion = new();
    private TimerHandle? _timer;
    private int _remaining;
    private bool _done;

    public JoinOperation(Loop loop, Greenlet[] greenlets, bool raiseError)
    {
        _loop = loop;
        _greenlets = greenlets;
        _raiseError = raiseError;
    }

    public Task<IReadOnlyList<Greenlet>> Task => _completion.Task;

    public bool IsCompleted => _done;

    public void Start(TimeSpan? timeout)
    {
        foreach (Greenlet greenlet in _greenlets)
        {
            if (greenlet.IsCompleted)
            {
                if (_raiseError && greenlet.Failed)
                {
                    Finish(greenlet.Exception);
                    return;
                }
            }
            else
            {
                _remaining++;
            }
        }

        if (_remaining == 0)
        {
            Finish(null);
            return;
        }

        foreach (Greenlet greenlet in _greenlets)
        {
            if (!greenlet.IsCompleted)
            {
                greenlet.AddListener(this);
            }
        }

        if (timeout is { } t && t != Timeout.InfiniteTimeSpan)
        {
            _timer = _loop.CallLater(t < TimeSpan.Zero ? TimeSpan.Zero : t, () => Finish(null));
        }
    }

    public void OnGreenletCompleted(Greenlet greenlet)
    {
        if (_done)
        {
            return;
        }

        if (_raiseError && greenlet.Failed)
        {
            Finish(greenlet.Exception);
        }
        else if (--_remaining == 0)
        {
            Finish(null);
        }
    }

    /// <summary>Ends the join now with whatever finished (the loop was stopped).</summary>
    public void Abandon() => Finish(null);

    private void Finish(Exception? error)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        _timer?.Cancel();
        var finished = new List<Greenlet>(_greenlets.Length);
        foreach (Greenlet greenlet in _greenlets)
        {
            if (greenlet.IsCompleted)
            {
                finished.Add(greenlet);
            }
            else
            {
                greenlet.RemoveListener(this); // long-lived greenlets must not collect stale joins
            }
        }

        if (error is not null)
        {
            _completion.TrySetException(error);
        }
        else
        {
            _completion.TrySetResult(finished);
        }
    }
}
