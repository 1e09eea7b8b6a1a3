using EventLoop.Polling;

namespace EventLoop;

public sealed partial class Loop
{
    private CompletionIo? _completionIo;
    private bool _completionIoProbed;

    /// <summary>
    /// Completion-based I/O through the loop's io_uring ring (see <see cref="EventLoop.CompletionIo"/>),
    /// or null: on the epoll and poll(2) back ends, on a kernel without <c>IORING_OP_RECV</c>,
    /// <c>IORING_OP_SEND</c> or <c>IORING_REGISTER_SYNC_CANCEL</c> (6.0), when the environment
    /// variable <c>EVENTLOOP_COMPLETION_IO</c> is <c>0</c>, and once the loop is disposed. The
    /// first read probes the ring (two system calls). Loop thread, or before the loop first runs.
    /// </summary>
    public CompletionIo? CompletionIo
    {
        get
        {
            if (!_completionIoProbed && !_disposed)
            {
                _completionIoProbed = true;
                _completionIo = (_poller as IoUringPoller)?.EnableCompletions(this);
            }

            return _disposed ? null : _completionIo;
        }
    }
}
