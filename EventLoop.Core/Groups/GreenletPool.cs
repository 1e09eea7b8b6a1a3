using System.Runtime.CompilerServices;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A <see cref="GreenletGroup"/> with at most <see cref="Size"/> members, like gevent's <c>Pool</c>:
/// <see cref="SpawnAsync(Func{Task}, CancellationToken)"/> waits (FIFO) while the pool is full,
/// <c>Spawn</c>/<see cref="GreenletGroup.Add"/> throw when it is full, and the map helpers keep at
/// most <see cref="Size"/> items in flight. Loop-thread only.
/// </summary>
public sealed class GreenletPool : GreenletGroup
{
    private readonly WaitQueue<bool> _slotWaiters;

    // Slots handed to waiting spawners whose continuation has not run yet: they count as taken,
    // so a spawn that arrives in between cannot steal them (FIFO, and a served waiter keeps its slot).
    private int _reserved;

    /// <summary>Creates a pool.</summary>
    /// <param name="loop">The loop the greenlets run on.</param>
    /// <param name="size">The most greenlets running at once; at least 1.</param>
    public GreenletPool(Loop loop, int size)
        : base(loop)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        _slotWaiters = new WaitQueue<bool>(loop);
    }

    /// <summary>The most greenlets running at once.</summary>
    public int Size { get; }

    /// <summary>Slots free now.</summary>
    public int FreeCount => Math.Max(0, Size - Count - _reserved);

    /// <summary>True when no slot is free.</summary>
    public bool IsFull => FreeCount == 0;

    /// <summary>Greenlets waiting in <c>SpawnAsync</c> for a slot.</summary>
    public int WaitingCount => _slotWaiters.Count;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The pool is full.</exception>
    public override void Add(Greenlet greenlet)
    {
        ArgumentNullException.ThrowIfNull(greenlet);
        if (!Contains(greenlet) && !greenlet.IsCompleted)
        {
            ThrowIfFull();
        }

        base.Add(greenlet);
    }

    /// <summary>Spawns into the pool when a slot is free, without waiting. Loop thread.</summary>
    /// <param name="body">The coroutine.</param>
    /// <param name="greenlet">The greenlet spawned, or null.</param>
    /// <returns>False when the pool is full.</returns>
    public bool TrySpawn(Func<Task> body, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Greenlet? greenlet)
    {
        ArgumentNullException.ThrowIfNull(body);
        Loop.VerifyAccess(nameof(TrySpawn));
        if (IsFull)
        {
            greenlet = null;
            return false;
        }

        greenlet = AddCore(Loop.Spawn(body));
        return true;
    }

    /// <summary>
    /// Spawns into the pool, waiting in FIFO order while it is full. Completes synchronously
    /// (no allocation beyond the greenlet) when a slot is free. Loop thread.
    /// </summary>
    /// <param name="body">The coroutine.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot (nothing is spawned then).</param>
    /// <returns>The greenlet.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled or the caller killed while waiting.</exception>
    public ValueTask<Greenlet> SpawnAsync(Func<Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        Loop.VerifyAccess(nameof(SpawnAsync));
        return !IsFull ? new ValueTask<Greenlet>(AddCore(Loop.Spawn(body))) : SpawnWhenFreeAsync(body, cancellationToken);
    }

    /// <summary>Like <see cref="SpawnAsync(Func{Task}, CancellationToken)"/> for a body that produces a value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="body">The coroutine.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot.</param>
    /// <returns>The greenlet.</returns>
    public ValueTask<Greenlet<T>> SpawnAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        Loop.VerifyAccess(nameof(SpawnAsync));
        return !IsFull ? new ValueTask<Greenlet<T>>(AddCore(Loop.Spawn(body))) : SpawnWhenFreeAsync(body, cancellationToken);
    }

    /// <summary>
    /// Applies <paramref name="func"/> to every item with at most <see cref="FreeCount"/> (up to
    /// <see cref="Size"/>) calls in flight, in pool greenlets, and returns the results in input
    /// order. The first failure kills the other workers and is rethrown as thrown. Loop thread.
    /// </summary>
    /// <typeparam name="TSource">The item type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The items.</param>
    /// <param name="func">The work for one item.</param>
    /// <param name="cancellationToken">Cancels the map (workers are killed).</param>
    /// <returns>The results, in input order.</returns>
    public async Task<TResult[]> MapAsync<TSource, TResult>(IEnumerable<TSource> source, Func<TSource, Task<TResult>> func, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(func);
        TSource[] items = source.ToArray();
        var results = new TResult[items.Length];
        int next = 0;
        await RunWorkersAsync(
            items.Length,
            async () =>
            {
                while (next < items.Length)
                {
                    int i = next++;
                    results[i] = await func(items[i]).ConfigureAwait(true);
                }
            },
            cancellationToken).ConfigureAwait(true);
        return results;
    }

    /// <summary>Runs <paramref name="action"/> for every item, at most <see cref="Size"/> at once; see <see cref="MapAsync"/>.</summary>
    /// <typeparam name="TSource">The item type.</typeparam>
    /// <param name="source">The items.</param>
    /// <param name="action">The work for one item.</param>
    /// <param name="cancellationToken">Cancels the run (workers are killed).</param>
    /// <returns>A task that completes when every item is done.</returns>
    public Task ForEachAsync<TSource>(IEnumerable<TSource> source, Func<TSource, Task> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(action);
        TSource[] items = source.ToArray();
        int next = 0;
        return RunWorkersAsync(
            items.Length,
            async () =>
            {
                while (next < items.Length)
                {
                    await action(items[next++]).ConfigureAwait(true);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// Like <see cref="MapAsync"/>, yielding each result as soon as it is ready (completion order).
    /// Stopping the enumeration early kills the workers. Loop thread.
    /// </summary>
    /// <typeparam name="TSource">The item type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="source">The items.</param>
    /// <param name="func">The work for one item.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    /// <returns>The results, as they complete.</returns>
    public async IAsyncEnumerable<TResult> MapUnorderedAsync<TSource, TResult>(
        IEnumerable<TSource> source,
        Func<TSource, Task<TResult>> func,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(func);
        TSource[] items = source.ToArray();
        var results = new LoopQueue<TResult>(Loop);
        var workers = new GreenletGroup(Loop);
        int next = 0;
        int running = 0;
        bool spawning = true;
        Exception? failure = null;

        void OnWorkerDone(Greenlet worker)
        {
            if (worker.Failed && failure is null)
            {
                failure = worker.Exception;
                workers.KillAll();
            }

            if (--running == 0 && !spawning)
            {
                results.Complete();
            }
        }

        try
        {
            int count = Math.Min(Size, items.Length);
            for (int w = 0; w < count && failure is null; w++)
            {
                Greenlet worker = await SpawnAsync(
                    async () =>
                    {
                        while (next < items.Length && failure is null)
                        {
                            int i = next++;
                            results.TryPut(await func(items[i]).ConfigureAwait(true));
                        }
                    },
                    cancellationToken).ConfigureAwait(true);
                workers.Add(worker);
                running++;
                worker.Link(OnWorkerDone);
            }

            spawning = false;
            if (running == 0)
            {
                results.Complete();
            }

            await foreach (TResult result in results.WithCancellation(cancellationToken).ConfigureAwait(true))
            {
                yield return result;
            }

            ExceptionHelper.ThrowIfNotNull(failure);
        }
        finally
        {
            workers.KillAll();
        }
    }

    private protected override void BeforeSpawn()
    {
        base.BeforeSpawn();
        ThrowIfFull();
    }

    private protected override void OnMemberLeft(Greenlet greenlet)
    {
        // Hand the freed slot to the oldest waiting spawner: it is reserved until it spawns.
        if (!IsFull && _slotWaiters.First is not null)
        {
            _reserved++;
            _slotWaiters.WakeFirst(true);
        }

        base.OnMemberLeft(greenlet);
    }

    private async ValueTask<Greenlet> SpawnWhenFreeAsync(Func<Task> body, CancellationToken cancellationToken)
    {
        await _slotWaiters.WaitAsync(cancellationToken).ConfigureAwait(true);
        _reserved--;
        return AddCore(Loop.Spawn(body));
    }

    private async ValueTask<Greenlet<T>> SpawnWhenFreeAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken)
    {
        await _slotWaiters.WaitAsync(cancellationToken).ConfigureAwait(true);
        _reserved--;
        return AddCore(Loop.Spawn(body));
    }

    private async Task RunWorkersAsync(int itemCount, Func<Task> worker, CancellationToken cancellationToken)
    {
        if (itemCount == 0)
        {
            return;
        }

        var workers = new GreenletGroup(Loop);
        var spawned = new Greenlet[Math.Min(Size, itemCount)];
        try
        {
            for (int w = 0; w < spawned.Length; w++)
            {
                spawned[w] = await SpawnAsync(worker, cancellationToken).ConfigureAwait(true);
                workers.Add(spawned[w]);
            }

            await workers.JoinAsync(raiseError: true, cancellationToken: cancellationToken).ConfigureAwait(true);
        }
        catch
        {
            workers.KillAll();
            throw;
        }

        // A worker that failed before it joined the group, or that someone killed, left items
        // undone: the map must not return as if it had succeeded.
        foreach (Greenlet done in spawned)
        {
            ExceptionHelper.ThrowIfNotNull(done.Exception);
        }
    }

    private void ThrowIfFull()
    {
        if (IsFull)
        {
            throw new InvalidOperationException($"The pool is full ({Size} greenlets); use SpawnAsync to wait for a slot.");
        }
    }
}
