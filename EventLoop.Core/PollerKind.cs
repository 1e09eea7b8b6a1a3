namespace EventLoop;

/// <summary>Which readiness back end a <see cref="Loop"/> uses.</summary>
public enum PollerKind
{
    /// <summary>
    /// The best back end for the platform: epoll on Linux, else poll(2); never io_uring. The
    /// environment variable <c>EVENTLOOP_POLLER=poll</c> (or <c>epoll</c>, or <c>io_uring</c>)
    /// overrides the choice.
    /// </summary>
    Auto = 0,

    /// <summary>Linux epoll (edge- and level-triggered registrations, one waitable descriptor).</summary>
    Epoll = 1,

    /// <summary>The portable poll(2) back end, available on every Unix.</summary>
    Poll = 2,

    /// <summary>
    /// Linux io_uring: readiness through poll requests on a submission/completion ring, written on
    /// the raw system calls (kernel 5.11 or later). Opt-in: creating a loop with it throws
    /// <see cref="PlatformNotSupportedException"/> naming the cause when io_uring is missing,
    /// disabled by <c>/proc/sys/kernel/io_uring_disabled</c>, or refused by a seccomp policy.
    /// </summary>
    IoUring = 3,
}
