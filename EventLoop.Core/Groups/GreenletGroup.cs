using System.Collections;
using EventLoop.Coroutines;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A set of greenlets managed together, like gevent's <c>Group</c>, with an optional limit (a
/// <see cref="GreenletPool"/>): members leave the group as they finish; <see cref="JoinAsync"/>
/// waits until it is empty; <see cref="KillAll"/> kills them. It is the one supervision engine:
/// <see cref="TaskScope"/>, <see cref="Loop.JoinAll"/> and the network server keep their
/// greenlets in a group. Loop-thread only; members throw <see cref="InvalidOperationException"/>
/// off the loop thread.
/// </summary>
/// <remarks>
/// When a member completes, in this order: it leaves the group; the listener it was added with
/// (<see cref="Add(Greenlet, IGreenletListener)"/>) is told; joiners that asked for errors fail
/// when it failed; a freed slot goes to the oldest waiting <c>SpawnAsync</c> and
/// <see cref="WaitAvailableAsync(CancellationToken)"/> callers wake; joiners wake once the group is empty. So a join never returns before the members' listeners ran.
/// The class is not sealed only so that a <see cref="GreenletPool"/> is a group; no member is
/// virtual, and the behaviour is the same in every subclass.
/// </remarks>
public class GreenletGroup : IReadOnlyCollection<Greenlet>
{
    private static readonly object s_raise = new();

    // A counting group's (never added to): see CreateCounting.
    private static readonly Dictionary<Greenlet, IGreenletListener?> s_noMembers = [];

    private readonly Loop _loop;
    private readonly int _limit;
    private readonly Dictionary<Greenlet, IGreenletListener?> _members;
    private readonly bool _counting;
    private readonly MemberListener _listener;
    private readonly WaitQueue<bool> _joiners;
    private int _counted;
    private WaitQueue<bool>? _slotWaiters;
    private WaitQueue<bool>? _availableWaiters;

    // Slots handed to waiting spawners whose continuation has not run yet: they count as taken,
    // so a spawn that arrives in between cannot steal them (FIFO, and a served waiter keeps its slot).
    private int _reserved;

    /// <summary>Creates an empty group without a limit.</summary>
    /// <param name="loop">The loop the greenlets run on.</param>
    public GreenletGroup(Loop loop)
        : this(loop, 0)
    {
    }

    /// <summary>Creates an empty group with at most <paramref name="limit"/> members (0: no limit).</summary>
    /// <param name="loop">The loop the greenlets run on.</param>
    /// <param name="limit">The most members at once; 0 for no limit.</param>
    private protected GreenletGroup(Loop loop, int limit)
        : this(loop, limit, counting: false)
    {
    }

    private GreenletGroup(Loop loop, int limit, bool counting)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _loop = loop;
        _limit = limit;
        _counting = counting;
        _members = counting ? s_noMembers : new Dictionary<Greenlet, IGreenletListener?>(ByIdComparer.Instance);
        _listener = new MemberListener(this);
        _joiners = new WaitQueue<bool>(loop);
        // A counting group is the engine of Loop.JoinAll/JoinAllAsync: a dump names that call.
        _joiners.DescribeAs(counting ? loop : this, counting ? "JoinAllAsync" : "JoinAsync");
    }

    /// <summary>The loop the group belongs to.</summary>
    public Loop Loop => _loop;

    /// <summary>Greenlets in the group (not finished yet).</summary>
    public int Count => _members.Count + _counted;

    /// <summary>The most members at once; 0 when the group has no limit.</summary>
    public int Limit => _limit;

    /// <summary>Slots free now (<see cref="int.MaxValue"/> without a limit).</summary>
    public int FreeCount => _limit == 0 ? int.MaxValue : Math.Max(0, _limit - Count - _reserved);

    /// <summary>True when no slot is free (never without a limit).</summary>
    public bool IsFull => FreeCount == 0;

    /// <summary>Callers waiting in <c>SpawnAsync</c> for a slot.</summary>
    public int WaitingCount => _slotWaiters?.Count ?? 0;

    /// <summary>True when <paramref name="greenlet"/> is in the group.</summary>
    /// <param name="greenlet">The greenlet.</param>
    /// <returns>True while it is a member.</returns>
    public bool Contains(Greenlet greenlet) => _members.ContainsKey(greenlet);

    /// <summary>
    /// Adds a greenlet; it leaves the group when it finishes. A finished one or a member is not
    /// added again. Loop thread.
    /// </summary>
    /// <param name="greenlet">A greenlet of the same loop.</param>
    /// <exception cref="InvalidOperationException">The group is full (a new member only).</exception>
    public void Add(Greenlet greenlet)
    {
        VerifyAddable(greenlet);
        if (!greenlet.IsCompleted && !_members.ContainsKey(greenlet))
        {
            ThrowIfFull();
            AddCore(greenlet, null);
        }
    }

    /// <summary>
    /// Adds a greenlet with a listener told, on the loop thread, when it completes (however it
    /// ends, even killed before it started), before the group's joiners wake. The group itself is
    /// the greenlet's only subscriber, so a member costs no allocation beyond the group's entry:
    /// the way a server closes each connection when its handler ends. A listener that throws is
    /// reported to the loop's unhandled-exception handler. Loop thread.
    /// </summary>
    /// <param name="greenlet">A greenlet of the same loop, not finished and not a member yet.</param>
    /// <param name="listener">Told once when the greenlet completes (also after <see cref="Discard"/>).</param>
    /// <exception cref="InvalidOperationException">The group is full.</exception>
    /// <exception cref="ArgumentException">The greenlet has finished, is a member already, or belongs to another loop.</exception>
    public void Add(Greenlet greenlet, IGreenletListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        VerifyAddable(greenlet);
        if (greenlet.IsCompleted)
        {
            throw new ArgumentException("The greenlet has finished.", nameof(greenlet));
        }

        ThrowIfFull();
        if (!_members.TryAdd(greenlet, listener))
        {
            throw new ArgumentException("The greenlet is a member already.", nameof(greenlet));
        }

        greenlet.AddListener(_listener);
    }

    /// <summary>
    /// Removes a greenlet from the group without killing it; the listener it was added with is
    /// still told when it completes. Loop thread.
    /// </summary>
    /// <param name="greenlet">The greenlet.</param>
    /// <returns>True when it was a member.</returns>
    public bool Discard(Greenlet greenlet)
    {
        ArgumentNullException.ThrowIfNull(greenlet);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Discard));
        if (!_members.Remove(greenlet, out IGreenletListener? listener))
        {
            return false;
        }

        greenlet.RemoveListener(_listener);
        if (listener is not null)
        {
            greenlet.AddListener(listener);
        }

        OnMemberLeft();
        return true;
    }

    /// <summary>Spawns a greenlet into the group. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="InvalidOperationException">The group is full (use <c>SpawnAsync</c> to wait for a slot).</exception>
    public Greenlet Spawn(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body), null);
    }

    /// <summary>Spawns a greenlet into the group; its body receives its kill token. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="InvalidOperationException">The group is full.</exception>
    public Greenlet Spawn(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body), null);
    }

    /// <summary>Spawns a greenlet producing a value into the group. Loop thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="InvalidOperationException">The group is full.</exception>
    public Greenlet<T> Spawn<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body), null);
    }

    /// <summary>Spawns a greenlet producing a value into the group; its body receives its kill token. Loop thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="InvalidOperationException">The group is full.</exception>
    public Greenlet<T> Spawn<T>(Func<CancellationToken, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BeforeSpawn();
        return AddCore(_loop.Spawn(body), null);
    }

    /// <summary>Spawns into the group when a slot is free, without waiting. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <param name="greenlet">The greenlet spawned, or null.</param>
    /// <returns>False when the group is full.</returns>
    public bool TrySpawn(Func<Task> body, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Greenlet? greenlet)
    {
        ArgumentNullException.ThrowIfNull(body);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(TrySpawn));
        if (IsFull)
        {
            greenlet = null;
            return false;
        }

        greenlet = AddCore(_loop.Spawn(body), null);
        return true;
    }

    /// <summary>
    /// Spawns into the group, waiting in FIFO order while it is full. Completes synchronously
    /// (no allocation beyond the greenlet) when a slot is free. Loop thread.
    /// </summary>
    /// <param name="body">The coroutine.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot (nothing is spawned then).</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled or the caller killed while waiting.</exception>
    public ValueTask<Greenlet> SpawnAsync(Func<Task> body, CancellationToken cancellationToken = default) => SpawnAsync(body, null, cancellationToken);

    /// <summary>
    /// Like <see cref="SpawnAsync(Func{Task}, CancellationToken)"/>, giving up after
    /// <paramref name="timeout"/> (loop time) without a slot; nothing is spawned then.
    /// </summary>
    /// <param name="body">The coroutine.</param>
    /// <param name="timeout">How long to wait for a slot at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="LoopTimeoutException">No slot came free within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<Greenlet> SpawnAsync(Func<Task> body, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(SpawnAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Greenlet>(cancellationToken);
        }

        return !IsFull ? new ValueTask<Greenlet>(AddCore(_loop.Spawn(body), null)) : SpawnWhenFreeAsync(body, timeout, cancellationToken);
    }

    /// <summary>Like <see cref="SpawnAsync(Func{Task}, CancellationToken)"/> for a body that produces a value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot.</param>
    /// <returns>The greenlet.</returns>
    public ValueTask<Greenlet<T>> SpawnAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken = default) => SpawnAsync(body, null, cancellationToken);

    /// <summary>Like <see cref="SpawnAsync(Func{Task}, TimeSpan?, CancellationToken)"/> for a body that produces a value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <param name="timeout">How long to wait for a slot at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot.</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="LoopTimeoutException">No slot came free within the timeout (its <see cref="LoopTimeoutException.Scope"/> is null).</exception>
    public ValueTask<Greenlet<T>> SpawnAsync<T>(Func<Task<T>> body, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(SpawnAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Greenlet<T>>(cancellationToken);
        }

        return !IsFull ? new ValueTask<Greenlet<T>>(AddCore(_loop.Spawn(body), null)) : SpawnWhenFreeAsync(body, timeout, cancellationToken);
    }

    /// <summary>
    /// Completes when a slot is free, without taking it (gevent's <c>wait_available</c>): a server
    /// waits here before accepting the next connection. At once when a slot is free. Loop thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A ValueTask that completes when <see cref="IsFull"/> turned false.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled or the caller killed while waiting.</exception>
    public ValueTask WaitAvailableAsync(CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(WaitAvailableAsync));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return !IsFull ? ValueTask.CompletedTask : AvailableWaiters.WaitNoResultAsync(cancellationToken, null, false);
    }

    /// <summary>
    /// Like <see cref="WaitAvailableAsync(CancellationToken)"/>, giving up after
    /// <paramref name="timeout"/> (loop time): a wait whose only result is "it happened" returns
    /// false then.
    /// </summary>
    /// <param name="timeout">How long to wait at most; null waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when a slot is free, false when the timeout passed first.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled or the caller killed while waiting.</exception>
    public ValueTask<bool> WaitAvailableAsync(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(WaitAvailableAsync));
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return !IsFull
            ? new ValueTask<bool>(true)
            : AvailableWaiters.WaitAsync(cancellationToken, timeout, timeoutThrows: false, timeoutValue: false);
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
        WaitTimeout.Validate(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return Count == 0
            ? new ValueTask<bool>(true)
            : _joiners.WaitAsync(cancellationToken, timeout, timeoutThrows: false, timeoutValue: false, state: raiseError ? s_raise : null);
    }

    /// <summary>Kills every member (see <see cref="Greenlet.Kill"/>); returns at once. Loop thread.</summary>
    public void KillAll()
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(KillAll));
        if (_members.Count == 0)
        {
            return;
        }

        // A member that has not started completes inside Kill, leaving the set: kill a snapshot.
        foreach (Greenlet greenlet in _members.Keys.ToArray())
        {
            greenlet.Kill();
        }
    }

    /// <summary>Kills every member and waits until they have finished. Loop thread.</summary>
    /// <param name="timeout">How long to wait at most (loop time); null waits for ever.</param>
    /// <returns>True when all finished, false when the timeout passed first.</returns>
    public ValueTask<bool> KillAllAsync(TimeSpan? timeout = null)
    {
        WaitTimeout.Validate(timeout); // before any kill: bad input changes nothing
        KillAll();
        return JoinAsync(timeout);
    }

    /// <inheritdoc />
    public IEnumerator<Greenlet> GetEnumerator() => _members.Keys.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// A group that counts its members instead of keeping them, for a caller that holds the list
    /// itself (<see cref="Loop.JoinAll"/>: no hashing, nothing allocated per member). Only
    /// <see cref="AddCounted"/>, <see cref="ReleaseCounted"/>, <see cref="Count"/> and
    /// <see cref="JoinAsync"/> apply; the set operations see an empty group.
    /// </summary>
    internal static GreenletGroup CreateCounting(Loop loop) => new(loop, 0, counting: true);

    /// <summary>Counts <paramref name="greenlet"/> in (a counting group; the caller checked it is unfinished).</summary>
    internal void AddCounted(Greenlet greenlet)
    {
        greenlet.AddListener(_listener);
        _counted++;
    }

    /// <summary>Stops counting <paramref name="greenlets"/> (a join that ends or gives up): each is left running.</summary>
    internal void ReleaseCounted(Greenlet[] greenlets)
    {
        if (_counted == 0)
        {
            return;
        }

        foreach (Greenlet greenlet in greenlets)
        {
            if (!greenlet.IsCompleted)
            {
                greenlet.RemoveListener(_listener);
            }
        }

        _counted = 0;
        OnMemberLeft();
    }

    /// <summary>Adds without the full check (the caller made sure, or the member is already counted).</summary>
    private protected TGreenlet AddCore<TGreenlet>(TGreenlet greenlet, IGreenletListener? listener)
        where TGreenlet : Greenlet
    {
        if (!greenlet.IsCompleted && _members.TryAdd(greenlet, listener))
        {
            greenlet.AddListener(_listener);
        }

        return greenlet;
    }

    private void VerifyAddable(Greenlet greenlet)
    {
        ArgumentNullException.ThrowIfNull(greenlet);
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Add));
        if (!ReferenceEquals(greenlet.Loop, _loop))
        {
            throw new ArgumentException("The greenlet belongs to another loop.", nameof(greenlet));
        }
    }

    private void BeforeSpawn()
    {
        _loop.VerifyAccess(nameof(GreenletGroup) + "." + nameof(Spawn));
        ThrowIfFull();
    }

    private void ThrowIfFull()
    {
        if (IsFull)
        {
            throw new InvalidOperationException($"The group is full ({_limit} greenlets); use SpawnAsync to wait for a slot.");
        }
    }

    private void OnMemberCompleted(Greenlet greenlet)
    {
        IGreenletListener? listener = null;
        if (_counting)
        {
            if (_counted == 0)
            {
                return;
            }

            _counted--;
        }
        else if (!_members.Remove(greenlet, out listener))
        {
            return;
        }

        if (listener is not null)
        {
            _loop.InvokeListener(listener, greenlet);
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

        OnMemberLeft();
    }

    private void OnMemberLeft()
    {
        if (_limit != 0)
        {
            // Hand the freed slot to the oldest waiting spawner: it is reserved until it spawns.
            if (!IsFull && _slotWaiters?.First is not null)
            {
                _reserved++;
                _slotWaiters.WakeFirst(true);
            }

            if (!IsFull)
            {
                _availableWaiters?.WakeAll(true);
            }
        }

        if (Count == 0)
        {
            _joiners.WakeAll(true);
        }
    }

    private WaitQueue<bool> AvailableWaiters
    {
        get
        {
            if (_availableWaiters is null)
            {
                _availableWaiters = new WaitQueue<bool>(_loop);
                _availableWaiters.DescribeAs(this, "WaitAvailableAsync");
            }

            return _availableWaiters;
        }
    }

    private async ValueTask<Greenlet> SpawnWhenFreeAsync(Func<Task> body, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        await WaitForSlotAsync(timeout, cancellationToken).ConfigureAwait(true);
        _reserved--;
        return AddCore(_loop.Spawn(body), null);
    }

    private async ValueTask<Greenlet<T>> SpawnWhenFreeAsync<T>(Func<Task<T>> body, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        await WaitForSlotAsync(timeout, cancellationToken).ConfigureAwait(true);
        _reserved--;
        return AddCore(_loop.Spawn(body), null);
    }

    private ValueTask<bool> WaitForSlotAsync(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (_slotWaiters is null)
        {
            _slotWaiters = new WaitQueue<bool>(_loop);
            _slotWaiters.DescribeAs(this, "SpawnAsync");
        }

        return _slotWaiters.WaitAsync(cancellationToken, timeout);
    }

    /// <summary>Greenlets hashed by their id: no identity hash written into each object header.</summary>
    private sealed class ByIdComparer : IEqualityComparer<Greenlet>
    {
        public static readonly ByIdComparer Instance = new();

        public bool Equals(Greenlet? x, Greenlet? y) => ReferenceEquals(x, y);

        public int GetHashCode(Greenlet obj) => obj.Id.GetHashCode();
    }

    /// <summary>The group's one subscription on each member (kept private: nobody else may tell the group a member finished).</summary>
    private sealed class MemberListener(GreenletGroup group) : IGreenletListener
    {
        public void OnGreenletCompleted(Greenlet greenlet) => group.OnMemberCompleted(greenlet);
    }
}
