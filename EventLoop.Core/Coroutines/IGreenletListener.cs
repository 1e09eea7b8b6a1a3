namespace EventLoop.Coroutines;

/// <summary>
/// Told, on the loop thread, when a greenlet completes: an allocation-free completion callback
/// for an object that already exists per greenlet (a server's per-connection state added with
/// <see cref="GreenletGroup.Add(Greenlet, IGreenletListener)"/>). <see cref="Greenlet.Link"/>
/// is the delegate form.
/// </summary>
public interface IGreenletListener
{
    /// <summary>Called once when <paramref name="greenlet"/> has completed. Loop thread.</summary>
    /// <param name="greenlet">The completed greenlet.</param>
    void OnGreenletCompleted(Greenlet greenlet);
}
