using EventLoop.Internal;

namespace EventLoop.Coroutines;

/// <summary>
/// A loop wait (sleep, socket receive, queue get...) that a greenlet is suspended in. While it
/// is pending it is linked into its greenlet's intrusive list of waits, so killing the greenlet
/// (or a timeout scope) can abort it even when the body never passed a token on. Linking costs
/// no allocation. Loop-thread only.
/// </summary>
internal abstract class LoopWait
{
    internal IntrusiveLinks<LoopWait> OwnerLinks;
    internal Greenlet? WaitOwner;

    /// <summary>Completes the wait with <paramref name="error"/> unless it already completed.</summary>
    internal abstract void Abort(Exception error);

    /// <summary>Links this wait to the greenlet running now, if any; returns that greenlet's pending abort, if any.</summary>
    internal Exception? AttachToCurrentGreenlet(Loop loop)
    {
        Greenlet? owner = loop.CurrentGreenlet;
        if (owner is null)
        {
            return null;
        }

        Exception? pending = owner.PendingAbort();
        if (pending is null)
        {
            owner.AttachWait(this);
        }

        return pending;
    }

    /// <summary>Unlinks this wait from its greenlet; idempotent.</summary>
    internal void Detach() => WaitOwner?.DetachWait(this);

    /// <summary>Finds a wait's links in its greenlet's list of waits.</summary>
    internal struct OwnerList : ILinksAccessor<LoopWait>
    {
        public static ref IntrusiveLinks<LoopWait> Of(LoopWait node) => ref node.OwnerLinks;
    }
}
