using System.Collections;
using EventLoop.Coroutines;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A set of greenlets managed together, like gevent's <c>Group</c>: members leave the group as
/// they finish; <see cref="JoinAsync"/> waits until it is empty; <see cref="KillAll"/> kills them.
/// Loop-thread only; members throw <see cref="InvalidOperationException"/> off the loop thread.
/// </summary>
public class GreenletGroup : IReadOnlyCollection<Greenlet>, IGreenletListener
{
    private static readonly object s_raise = new();

    private readonly Loop _loop;
    private readonly HashSet<Greenlet> _members = [];
    private readonly WaitQueue<bool> _joiners;

    /// <summary>Creates an empty group.</summary>
    /// <param name="loop">The loop the greenlets run on.</param>
    public GreenletGroup(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
        _joiners = new WaitQueue<bool>(loop);
    }

    /// <summary>The loop the group belongs to.</summary>
    public Loop Loop => _loop;

    /// <summary>Greenlets in the group (not finished yet).</summary>
    public int Count => _members.Count;

    /// <summary>True when <paramref name="greenlet"/> is in the group.</summary>
    /// <param name="greenlet">The greenlet.</param>
    /// <returns>True while it is a member.</returns>
    public bool Contains(Greenlet greenlet) => _members.Contains(greenlet);

    /// <summary>Adds a greenlet; it leaves the group when it finishes. A finished one is not added. Loop thread.</summary>
    /// <param name="greenlet">A greenlet of the same loop.</param>
    public virtual void Add(Greenlet greenlet)
    {
        ArgumentNullException.ThrowIfNull(greenlet);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Add));
        if (!ReferenceEquals(greenlet.Loop, _loop))
        {
            throw new ArgumentException("The greenlet belongs to another loop.", nameof(greenlet));
        }

        AddCore(greenlet);
    }

    /// <summary>Removes a greenlet from the group without killing it. Loop thread.</summary>
    /// <param name="greenlet">The greenlet.</param>
    /// <returns>True when it was a member.</returns>
    public bool Discard(Greenlet greenlet)
    {
        ArgumentNullException.ThrowIfNull(greenlet);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Discard));
        if (!_members.Remove(greenlet))
        {
            return false;
        }

        greenlet.RemoveListener(this);
        OnMemberLeft(greenlet);
        return true;
    }

    /// <summary>Spawns a greenlet into the group. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet Spawn(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body));
    }

    /// <summary>Spawns a greenlet into the group; its body receives its kill token. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet Spawn(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body));
    }

    /// <summary>Spawns a greenlet producing a value into the group. Loop thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet<T> Spawn<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body));
    }

    /// <summary>
    /// Waits until the group is empty (greenlets added meanwhile are waited for too). Loop thread.
    /// </summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <param name="raiseError">Throw the first failure of a member (as thrown) instead of waiting on; kills do not count.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when the group became empty, false when the timeout passed first.</returns>
    public ValueTask<bool> JoinAsync(TimeSpan? timeout = null, bool raiseError = false, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(JoinAsync));
        return _members.Count == 0
            ? new ValueTask<bool>(true)
            : _joiners.WaitAsync(cancellationToken, timeout, timeoutThrows: false, timeoutValue: false, state: raiseError ? s_raise : null);
    }

    /// <summary>Kills every member (see <see cref="Greenlet.Kill"/>); returns at once. Loop thread.</summary>
    public void KillAll()
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(KillAll));
        foreach (Greenlet greenlet in _members.ToArray())
        {
            greenlet.Kill();
        }
    }

    /// <summary>Kills every member and waits until they have finished. Loop thread.</summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <returns>True when all finished, false when the timeout passed first.</returns>
    public ValueTask<bool> KillAllAsync(TimeSpan? timeout = null)
    {
        KillAll();
        return JoinAsync(timeout);
    }

    /// <inheritdoc />
    public IEnumerator<Greenlet> GetEnumerator() => _members.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void IGreenletListener.OnGreenletCompleted(Greenlet greenlet)
    {
        if (!_members.Remove(greenlet))
        {
            return;
        }

        if (greenlet.Failed)
        {
            for (Waiter<bool>? joiner = _joiners.First; joiner is not null;)
            {
                Waiter<bool>? next = joiner.Next;
                if (ReferenceEquals(joiner.State, s_raise))
                {
                    joiner.Fail(greenlet.Exception!);
                }

                joiner = next;
            }
        }

        OnMemberLeft(greenlet);
    }

    /// <summary>Checks that a spawn may go ahead (a pool throws when full).</summary>
    private protected virtual void BeforeSpawn() => _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Spawn));

    /// <summary>Called after a member left (finished or discarded).</summary>
    private protected virtual void OnMemberLeft(Greenlet greenlet)
    {
        if (_members.Count == 0)
        {
            _joiners.WakeAll(true);
        }
    }

    private protected TGreenlet AddCore<TGreenlet>(TGreenlet greenlet)
        where TGreenlet : Greenlet
    {
        if (!greenlet.IsCompleted && _members.Add(greenlet))
        {
            greenlet.AddListener(this);
        }

        return greenlet;
    }
}
