namespace EventLoop.Sync;

/// <summary>Something a <see cref="LoopReleaser"/> gives back on dispose (a lock or a semaphore).</summary>
internal interface ILoopReleasable
{
    void Release();
}
