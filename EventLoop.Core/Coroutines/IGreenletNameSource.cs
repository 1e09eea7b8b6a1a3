namespace EventLoop.Coroutines;

/// <summary>
/// Supplies a greenlet's name when it is first asked for (<see cref="Greenlet.SetNameSource"/>),
/// so a server that names each connection's greenlet after its peer formats no string for the
/// 10,000 nobody looks at.
/// </summary>
public interface IGreenletNameSource
{
    /// <summary>The name; called at most once per greenlet, on the thread that reads the name.</summary>
    /// <returns>The greenlet's name.</returns>
    string GetGreenletName();
}
