namespace EventLoop.Scheduling;

/// <summary>
/// One unit of work in the run queue: a delegate, its state, and the greenlet it belongs to
/// (so the loop installs that greenlet's context while it runs). <see cref="Callback"/> is a
/// <see cref="SendOrPostCallback"/>, an <see cref="Action{T}"/> of object, or an <see cref="Action"/>:
/// storing the delegate as it came avoids a wrapper allocation per post.
/// </summary>
internal readonly struct ReadyItem(object callback, object? state, Greenlet? owner)
{
    public readonly object Callback = callback;
    public readonly object? State = state;
    public readonly Greenlet? Owner = owner;

    public void Invoke()
    {
        switch (Callback)
        {
            case Action action:
                action();
                break;
            case SendOrPostCallback post:
                post(State);
                break;
            default:
                ((Action<object?>)Callback)(State);
                break;
        }
    }
}
