namespace EventLoop;

/// <summary>Where a greenlet is in its life, as a <see cref="GreenletInfo"/> reports it.</summary>
public enum GreenletState
{
    /// <summary>Spawned; its body has not started yet.</summary>
    Pending,

    /// <summary>Its step is running on the loop thread right now (the greenlet that asked for the snapshot).</summary>
    Running,

    /// <summary>Started and suspended in an await; <see cref="GreenletInfo.WaitingOn"/> says on what.</summary>
    Suspended,

    /// <summary>Finished (returned, threw or was killed).</summary>
    Completed,
}
