namespace EventLoop.Polling;

/// <summary>Interest flags a back end translates into its own (EPOLLIN, POLLIN, ...).</summary>
[Flags]
internal enum PollEvents
{
    None = 0,
    Read = 1,
    Write = 2,

    // Edge-triggered: report a direction once per readiness edge. epoll does this natively
    // (EPOLLET); the poll(2) back end emulates it by disarming a reported direction until
    // the owner re-arms it with Modify (see IPoller.NativeEdgeTriggered).
    EdgeTriggered = 4,
}
