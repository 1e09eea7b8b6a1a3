namespace EventLoop.Net;

/// <summary>Settings for <see cref="LoopNetExtensions.Listen(Loop, System.Net.EndPoint, ListenOptions)"/>.</summary>
public sealed class ListenOptions
{
    /// <summary>The accept queue length passed to <c>listen(2)</c> (the kernel caps it at <c>net.core.somaxconn</c>); positive, 512 by default.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>
    /// Sets <c>SO_REUSEPORT</c>, so several listeners (one per loop, typically) can bind the same
    /// address and the kernel balances connections between them. Off by default.
    /// </summary>
    public bool ReusePort { get; init; }
}
