using EventLoop.Coroutines;
using EventLoop.Internal;

namespace EventLoop;

public sealed partial class Loop
{
    // Dispose gives killed greenlets this many iterations to run their finally blocks.
    private const int DisposeUnwindIterations = 16;

    private static readonly Action<object?> s_startRemote = static s =>
    {
        var greenlet = (Greenlet)s!;
        Loop loop = greenlet.Loop;
        loop.ForgetRemoteSpawn(greenlet);
        if (!greenlet.IsCompleted)
        {
            loop.LinkLive(greenlet);
            Greenlet.s_start(greenlet);
        }
    };

    private static readonly Action<object?> s_startJoin = static s =>
    {
        var join = (JoinOperation)s!;
        join.Start(join.RemoteTimeout);
    };

    private IntrusiveList<Greenlet, Greenlet.LiveList> _live;
    private int _liveCount;

    // Greenlets spawned from other threads whose start still waits in the inbox: counted and
    // listed as pending (GetGreenlets, the live gauge) from the moment Spawn returns. Guarded by
    // its own lock: spawning threads add, the loop thread removes when the start runs.
    private readonly HashSet<Greenlet> _remoteSpawns = new(ReferenceEqualityComparer.Instance);
    private int _remoteSpawnCount;

    /// <summary>
    /// Spawns a greenlet running <paramref name="body"/>. The body starts on a later iteration,
    /// never inside Spawn. Any thread.
    /// </summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet Spawn(Func<Task> body) => SpawnCore(new Greenlet(this, body ?? throw new ArgumentNullException(nameof(body))));

    /// <summary>Spawns a greenlet whose body receives a token cancelled when it is killed. Any thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet Spawn(Func<CancellationToken, Task> body) => SpawnCore(new Greenlet(this, body ?? throw new ArgumentNullException(nameof(body))));

    /// <summary>Spawns a greenlet that produces a value. Any thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet<T> Spawn<T>(Func<Task<T>> body) => SpawnCore(new Greenlet<T>(this, body ?? throw new ArgumentNullException(nameof(body))));

    /// <summary>Spawns a greenlet that produces a value and receives a kill token. Any thread.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <returns>The greenlet.</returns>
    public Greenlet<T> Spawn<T>(Func<CancellationToken, Task<T>> body) => SpawnCore(new Greenlet<T>(this, body ?? throw new ArgumentNullException(nameof(body))));

    /// <summary>
    /// Waits until every greenlet has finished or <paramref name="timeout"/> (loop time) passed,
    /// running the loop on the calling thread when no thread runs it, or waiting for the thread
    /// that does (the timeout then also bounds the wait in wall-clock time, in case that thread
    /// leaves <c>Run</c> first). Not from inside the loop: greenlets use <see cref="JoinAllAsync"/>.
    /// </summary>
    /// <param name="greenlets">The greenlets to join.</param>
    /// <param name="timeout">How long to wait at most; null for no bound.</param>
    /// <param name="raiseError">Rethrow the first failure (as thrown) instead of returning.</param>
    /// <returns>The greenlets that finished, in input order.</returns>
    /// <exception cref="InvalidOperationException">Called on the loop thread (use <see cref="JoinAllAsync"/>).</exception>
    public IReadOnlyList<Greenlet> JoinAll(IEnumerable<Greenlet> greenlets, TimeSpan? timeout = null, bool raiseError = false)
    {
        Greenlet[] list = ToArray(greenlets);
        ThrowIfDisposed();
        int running = _runningThreadId;
        if (running == Environment.CurrentManagedThreadId)
        {
            ThrowHelper.ThrowInvalidOperation(
                "JoinAll blocks the calling thread, which is the loop thread here; inside a greenlet use 'await loop.JoinAllAsync(...)'.");
        }

        if (running != 0)
        {
            return JoinWhileAnotherThreadRuns(list, timeout, raiseError);
        }

        EnterRun();
        JoinOperation join;
        try
        {
            join = new JoinOperation(this, list, raiseError);
            join.Start(timeout);
            while (!join.IsCompleted)
            {
                RunIteration(Timeout.Infinite);
                if (ConsumeStop())
                {
                    join.Abandon();
                }
            }
        }
        finally
        {
            ExitRun();
        }

        return join.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// <see cref="JoinAll"/> while another thread runs the loop: hands the join to the loop and
    /// waits for it. The loop's timer ends the join at the timeout; the wait also gives up after
    /// the timeout in wall-clock time, so a loop that stops turning meanwhile (its thread left
    /// <c>Run</c>) does not hold this thread: it returns the greenlets finished by then.
    /// </summary>
    private IReadOnlyList<Greenlet> JoinWhileAnotherThreadRuns(Greenlet[] list, TimeSpan? timeout, bool raiseError)
    {
        Task<IReadOnlyList<Greenlet>> join = JoinAllAsync(list, timeout, raiseError);
        if (timeout is { } bound && bound != Timeout.InfiniteTimeSpan
            && !((IAsyncResult)join).AsyncWaitHandle.WaitOne(bound < TimeSpan.Zero ? TimeSpan.Zero : bound))
        {
            return Array.FindAll(list, static g => g.IsCompleted);
        }

        return join.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Completes when every greenlet has finished or <paramref name="timeout"/> (loop time) passed.
    /// Any thread; inside a greenlet it suspends only that greenlet.
    /// </summary>
    /// <param name="greenlets">The greenlets to join.</param>
    /// <param name="timeout">How long to wait at most; null for no bound.</param>
    /// <param name="raiseError">Fail with the first failure (as thrown) instead of returning.</param>
    /// <returns>The greenlets that finished, in input order.</returns>
    public Task<IReadOnlyList<Greenlet>> JoinAllAsync(IEnumerable<Greenlet> greenlets, TimeSpan? timeout = null, bool raiseError = false)
    {
        Greenlet[] list = ToArray(greenlets);
        ThrowIfDisposed();
        var join = new JoinOperation(this, list, raiseError);
        if (!TryRunHere(static s => s.Join.Start(s.Timeout), (Join: join, Timeout: timeout)))
        {
            join.RemoteTimeout = timeout;
            EnqueueRemote(s_startJoin, join, null);

            // Dekker with Dispose, as for a remote spawn: either Dispose finds this start queued,
            // or this read sees the loop disposed (its greenlets are all finished by then).
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _disposed))
            {
                join.CompleteUnstarted();
            }
        }

        return join.Task;
    }

    private TGreenlet SpawnCore<TGreenlet>(TGreenlet greenlet)
        where TGreenlet : Greenlet
    {
        ThrowIfDisposed();
        if (IsOnLoopThread)
        {
            SpawnHere(greenlet);
        }
        else if (!TryRunHere(static g => g.Loop.SpawnHere(g), (Greenlet)greenlet))
        {
            greenlet.SetSpawnInfo(0, Volatile.Read(ref _now)); // its age counts from now
            lock (_remoteSpawns)
            {
                _remoteSpawns.Add(greenlet);
                Volatile.Write(ref _remoteSpawnCount, _remoteSpawns.Count);
            }

            EnqueueRemote(s_startRemote, greenlet, greenlet);

            // Dekker with AbandonRemoteSpawns: either the disposing thread drains this start from
            // the inbox, or this read sees the loop disposed; each side fences between its write
            // and its read, and the greenlet's claim lets only one of them end it.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _disposed))
            {
                ForgetRemoteSpawn(greenlet);
                greenlet.AbandonUnstarted($"Greenlet {greenlet.Name} was killed: its loop '{Name}' was disposed before it started.");
            }
        }

        return greenlet;
    }

    /// <summary>
    /// Once the loop is disposed: ends the greenlets spawned and the joins started from other
    /// threads whose start was still in the inbox (it is not read again) or in the run queue (no
    /// iteration ran it), so their invokers and joiners are not left waiting. Run by
    /// <see cref="Dispose"/> once the loop is marked disposed.
    /// </summary>
    private void AbandonRemoteSpawns()
    {
        Interlocked.MemoryBarrier();
        var items = new Scheduling.RunQueue();
        _inbox.DrainTo(ref items);
        while (items.Count > 0)
        {
            Scheduling.ReadyItem item = items.Dequeue();
            EndUnstarted(in item);
        }

        // Starts the loop took in but never ran (the greenlets died without another iteration).
        while (_runQueue.Count > 0)
        {
            Scheduling.ReadyItem item = _runQueue.Dequeue();
            EndUnstarted(in item);
        }
    }

    /// <summary>At Dispose: a spawn or a join from another thread whose start never ran ends now, so no invoker or joiner waits for ever.</summary>
    private void EndUnstarted(in Scheduling.ReadyItem item)
    {
        if (ReferenceEquals(item.Callback, s_startRemote) && item.State is Greenlet greenlet)
        {
            ForgetRemoteSpawn(greenlet);
            greenlet.AbandonUnstarted($"Greenlet {greenlet.Name} was killed: its loop '{Name}' was disposed before it started.");
        }
        else if (ReferenceEquals(item.Callback, s_startJoin) && item.State is JoinOperation join)
        {
            join.CompleteUnstarted();
        }
    }

    /// <summary>Makes a spawn live and queues its start. The loop thread, or its owner while no thread runs it.</summary>
    private void SpawnHere(Greenlet greenlet)
    {
        uint parentDelta = _currentOwner is { } parent && greenlet.Id - parent.Id is > 0 and <= uint.MaxValue and long delta ? (uint)delta : 0;
        AddLive(greenlet, parentDelta);
        _runQueue.Enqueue(new Scheduling.ReadyItem(Greenlet.s_start, greenlet, greenlet));
        OnQueuedBetweenIterations(); // a host waiting on BackendDescriptor must see it
    }

    private void AddLive(Greenlet greenlet, uint parentDelta)
    {
        greenlet.SetSpawnInfo(parentDelta, _now);
        LinkLive(greenlet);
    }

    private void LinkLive(Greenlet greenlet)
    {
        _live.AddFirst(greenlet);
        _liveCount++;
        _spawnedTotal++;
    }

    /// <summary>A remote spawn's start left the inbox (it runs, is adopted, or is dropped): it is pending no more.</summary>
    private void ForgetRemoteSpawn(Greenlet greenlet)
    {
        lock (_remoteSpawns)
        {
            _remoteSpawns.Remove(greenlet);
            Volatile.Write(ref _remoteSpawnCount, _remoteSpawns.Count);
        }
    }

    /// <summary>Adds the remote spawns whose start has not run yet (and that were not killed meanwhile). Loop thread.</summary>
    private void AddPendingRemoteSpawnsTo(List<Greenlet> pending)
    {
        if (Volatile.Read(ref _remoteSpawnCount) == 0)
        {
            return;
        }

        lock (_remoteSpawns)
        {
            foreach (Greenlet greenlet in _remoteSpawns)
            {
                if (!greenlet.IsCompleted)
                {
                    pending.Add(greenlet);
                }
            }
        }
    }

    internal void OnGreenletCompleted(Greenlet greenlet)
    {
        if (!_live.Remove(greenlet))
        {
            return; // killed before a remote spawn reached the loop
        }

        _liveCount--;
    }

    internal void InvokeListener(IGreenletListener listener, Greenlet greenlet)
    {
        try
        {
            listener.OnGreenletCompleted(greenlet);
        }
        catch (Exception ex)
        {
            ReportUnhandled(ex, null);
        }
    }

    private void KillLiveGreenlets()
    {
        if (_live.IsEmpty && !_inbox.HasItems)
        {
            return;
        }

        EnterRun();
        try
        {
            DrainInbox();
            AdoptQueuedRemoteSpawns(); // remote spawns become live greenlets, so they are killed too
            KillAll();
            for (int i = 0; i < DisposeUnwindIterations && !_live.IsEmpty; i++)
            {
                RunIteration(0);
                KillAll();
            }

            // Whatever still has not finished waits on something outside the loop: complete it.
            while (_live.First is { } stuck)
            {
                stuck.Complete(new OperationCanceledException($"Greenlet {stuck.Name} was killed when its loop was disposed."));
            }
        }
        finally
        {
            ExitRun();
        }
    }

    /// <summary>
    /// Makes the greenlets spawned from other threads whose start waits in the run queue live
    /// (without starting them), so Dispose kills them instead of dropping their start with the
    /// queue and leaving their joiners waiting.
    /// </summary>
    private void AdoptQueuedRemoteSpawns()
    {
        for (int count = _runQueue.Count; count > 0; count--)
        {
            Scheduling.ReadyItem item = _runQueue.Dequeue();
            if (ReferenceEquals(item.Callback, s_startRemote) && item.State is Greenlet greenlet)
            {
                ForgetRemoteSpawn(greenlet);
                if (!greenlet.IsCompleted)
                {
                    LinkLive(greenlet);
                    item = new Scheduling.ReadyItem(Greenlet.s_start, greenlet, greenlet);
                }
            }

            _runQueue.Enqueue(item);
        }
    }

    private void KillAll()
    {
        for (Greenlet? g = _live.First; g is not null;)
        {
            Greenlet? next = _live.NextOf(g);
            g.KillCore();
            g = next;
        }
    }

    private Greenlet[] ToArray(IEnumerable<Greenlet> greenlets)
    {
        ArgumentNullException.ThrowIfNull(greenlets);
        Greenlet[] list = greenlets.ToArray();
        foreach (Greenlet g in list)
        {
            if (g is null)
            {
                throw new ArgumentException("The sequence contains a null greenlet.", nameof(greenlets));
            }

            if (!ReferenceEquals(g.Loop, this))
            {
                throw new ArgumentException($"Greenlet {g.Id} belongs to another loop.", nameof(greenlets));
            }
        }

        return list;
    }
}
