namespace EventLoop.Io;

/// <summary>
/// The owner of a poller registration: the public <see cref="IoRegistration"/>, or a socket of
/// the network layer. <see cref="OnReady"/> runs inside the poll phase and must only record
/// readiness or complete waits (which queues their continuations); it must not run user code.
/// </summary>
internal interface IReadinessHandler
{
    /// <summary>Readiness reported by the poller; errors and hang-ups arrive as Read | Write.</summary>
    void OnReady(IoEvents events);

    /// <summary>The loop is being disposed: release the descriptor, fail pending waits.</summary>
    void OnLoopDisposed();
}
