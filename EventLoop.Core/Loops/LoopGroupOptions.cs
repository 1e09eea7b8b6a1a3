namespace EventLoop;

/// <summary>Settings of a <see cref="LoopGroup"/>, fixed when the group is created.</summary>
public sealed class LoopGroupOptions
{
    /// <summary>
    /// Settings every loop of the group is created with; null for the defaults. Its
    /// <see cref="LoopOptions.Name"/> is replaced by <c>&lt;Name&gt;-&lt;i&gt;</c>. When its
    /// <see cref="LoopOptions.UnhandledException"/> is null, failures are written to standard
    /// error prefixed with the loop's name.
    /// </summary>
    public LoopOptions? Loop { get; init; }

    /// <summary>
    /// Binds each loop's thread to one CPU (<c>sched_setaffinity</c>), round robin over the CPUs
    /// the process may use, as Seastar and Glommio run one loop per core. Off by default; where
    /// the platform cannot pin, the loop runs unpinned and the failure is written to standard error.
    /// </summary>
    public bool PinThreads { get; init; }

    /// <summary>The group's name: loop <c>i</c> and its thread are named <c>&lt;Name&gt;-&lt;i&gt;</c>. Defaults to <c>loops</c>.</summary>
    public string Name { get; init; } = "loops";
}
