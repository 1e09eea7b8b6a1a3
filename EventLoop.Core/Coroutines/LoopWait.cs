using EventLoop.Internal;

namespace EventLoop;

/// <summary>
/// What every loop wait has in common, whatever it produces: the loop it belongs to and its link
/// into the list of waits of the greenlet suspended in it, through which <see cref="Greenlet.Kill"/>
/// and cancel scopes abort it. Derive from <see cref="LoopWaitSource{TResult}"/>, not from this class.
/// </summary>
public abstract class LoopWait
{
    internal IntrusiveLinks<LoopWait> OwnerLinks;
    internal Greenlet? WaitOwner;

    private protected LoopWait(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The loop the wait runs on; its continuation resumes there.</summary>
    public Loop Loop { get; }

    /// <summary>
    /// What the wait waits for, in words a person reads in a greenlet dump
    /// (<see cref="Loop.DumpGreenlets"/>): <c>Sleep, 1.2 s left</c>, <c>LoopQueue&lt;Job&gt;.GetAsync</c>,
    /// <c>Receive on 127.0.0.1:6379</c>. Called only when a dump asks, on the loop thread; the
    /// default is the type's name. A driver overrides it to name its operation and endpoint; if the
    /// override throws, the dump shows the type's name and the exception's message instead.
    /// </summary>
    /// <returns>The description.</returns>
    public virtual string Describe() => GreenletDump.TypeName(GetType());

    /// <summary>Completes the wait with <paramref name="error"/> unless it already completed.</summary>
    internal abstract void Abort(Exception error);

    /// <summary>Links this wait to the greenlet running now, if any; returns that greenlet's pending abort, if any.</summary>
    internal Exception? AttachToCurrentGreenlet()
    {
        Greenlet? owner = Loop.CurrentGreenlet;
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
