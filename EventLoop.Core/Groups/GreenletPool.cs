using System.Runtime.CompilerServices;
using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// A <see cref="GreenletGroup"/> with at most <see cref="Size"/> members, like gevent's <c>Pool</c>:
/// <see cref="GreenletGroup.SpawnAsync(Func{Task}, CancellationToken)"/> waits (FIFO) while the
/// pool is full, <c>Spawn</c>/<c>Add</c> throw when it is full, and the map helpers keep at most
/// <see cref="Size"/> items in flight. The limit and the waiting live in the group itself; a pool
/// is a group whose limit is at least 1. Loop-thread only.
/// </summary>
public sealed class GreenletPool : GreenletGroup
{
    /// <summary>Creates a pool.</summary>
    /// <param name="loop">The loop the greenlets run on.</param>
    /// <param name="size">The most greenlets running at once; at least 1.</param>
    public GreenletPool(Loop loop, int size)
        : base(loop, CheckSize(size))
    {
    }

    /// <summary>The most greenlets running at once (the group's <see cref="GreenletGroup.Limit"/>).</summary>
    public int Size => Limit;

    /// <summary>
    /// Applies <paramref name="func"/> to every item with at most <see cref="GreenletGroup.FreeCount"/> (up to
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
    /// The first worker that fails or is killed kills the others, and the enumeration ends by
    /// throwing its exception. Stopping the enumeration early kills the workers. Loop thread.
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
            // A worker killed from outside left its item undone, like one that failed: the
            // enumeration must not end as if every result had come.
            if (!worker.Succeeded && failure is null)
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

    private static int CheckSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return size;
    }
}
