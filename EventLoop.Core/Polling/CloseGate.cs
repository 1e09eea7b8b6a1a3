namespace EventLoop.Polling;

/// <summary>
/// Lets other threads use a descriptor without ever touching it after it is closed, where the
/// number may already belong to a new descriptor. Lock-free: users announce themselves before
/// checking the closed flag, and the closer sets the flag before waiting for users to leave
/// (a Dekker handshake; Interlocked operations are full fences, so one side always sees the other).
/// </summary>
internal sealed class CloseGate
{
    private int _users;
    private int _closed;

    /// <summary>True once <see cref="TryClose"/> has run.</summary>
    internal bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Returns false when closed; otherwise the caller must call <see cref="Exit"/>.</summary>
    internal bool TryEnter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref _users);
            return false;
        }

        return true;
    }

    internal void Exit() => Interlocked.Decrement(ref _users);

    /// <summary>
    /// Marks the gate closed and waits for current users (each in one short system call) to
    /// leave. Returns true to exactly one caller, which then owns closing the descriptor.
    /// </summary>
    internal bool TryClose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _users) != 0)
        {
            spin.SpinOnce();
        }

        return true;
    }
}
