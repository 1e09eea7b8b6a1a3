namespace EventLoop.Coroutines;

/// <summary>Something told, on the loop thread, when a greenlet completes (links, awaiters, joins).</summary>
internal interface IGreenletListener
{
    void OnGreenletCompleted(Greenlet greenlet);
}
