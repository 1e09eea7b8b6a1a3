namespace EventLoop;

/// <summary>The event loop (being written).</summary>
public sealed partial class Loop : IDisposable
{
    /// <summary>Releases the loop.</summary>
    public void Dispose()
    {
    }
}
