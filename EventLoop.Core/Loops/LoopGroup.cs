using EventLoop.Interop;

namespace EventLoop;

/// <summary>
/// Several loops, each running on a thread of its own, like Netty's <c>EventLoopGroup</c> or a
/// Seastar shard per core: the way a program uses more than one core while each loop stays
/// single-threaded (shared nothing; loops talk through <see cref="Loop.InvokeAsync(Func{Task})"/>
/// and <see cref="Loop.Post(Action)"/>).
/// </summary>
/// <remarks>
/// <para>
/// The constructor returns once every loop exists and its thread is about to run it, so work may
/// be posted, spawned or invoked on any of them at once, from any thread. A failure on one loop
/// (a callback or greenlet that throws) goes to that loop's unhandled-exception handler, named
/// after the loop, and never stops the others. A <see cref="Loop.Stop"/> of a single loop only
/// makes its thread run it again; <see cref="StopAsync"/> ends the group.
/// </para>
/// <para>
/// The loops are run and disposed by their own threads: do not call <see cref="Loop.Run()"/>,
/// <see cref="Loop.RunOnce"/> or <see cref="Loop.Dispose"/> on them. All members may be called
/// from any thread, except <see cref="Dispose"/> from one of the group's own threads.
/// </para>
/// </remarks>
public sealed class LoopGroup : IAsyncDisposable, IDisposable
{
    private readonly Loop[] _loops;
    private readonly Thread[] _threads;
    private readonly IReadOnlyList<Loop> _readOnlyLoops;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // 64 bits: a 32-bit counter wraps after 2^32 calls (hours for a busy acceptor), and unless
    // Count divides 2^32 the round robin then hands one loop out twice in a row.
    private long _next = -1;
    private int _threadsRunning;
    private volatile bool _stopping;

    /// <summary>Starts <paramref name="count"/> loops, each on its own thread named <c>&lt;Name&gt;-&lt;i&gt;</c>.</summary>
    /// <param name="count">The number of loops, at least 1 (one per core is the usual choice).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The name is null or empty.</exception>
    /// <exception cref="PlatformNotSupportedException">The platform has no supported poller.</exception>
    public LoopGroup(int count, LoopGroupOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        options ??= new LoopGroupOptions();
        ArgumentException.ThrowIfNullOrEmpty(options.Name, nameof(options));
        Name = options.Name;
        int[] cpus = options.PinThreads ? Libc.GetAllowedCpus() : [];
        _loops = new Loop[count];
        _threads = new Thread[count];
        _readOnlyLoops = Array.AsReadOnly(_loops);
        var starts = new LoopStart[count];
        for (int i = 0; i < count; i++)
        {
            string name = $"{Name}-{i}";
            LoopOptions loopOptions = (options.Loop ?? new LoopOptions()).CopyWith(
                name,
                options.Loop?.UnhandledException ?? (error => WriteFailure(name, error)));
            starts[i] = new LoopStart(loopOptions, options.PinThreads && cpus.Length > 0 ? cpus[i % cpus.Length] : -1);
            _threads[i] = new Thread(RunThread) { Name = name, IsBackground = true };
        }

        _threadsRunning = count;
        for (int i = 0; i < count; i++)
        {
            _threads[i].Start(starts[i]);
        }

        Exception? failure = null;
        for (int i = 0; i < count; i++)
        {
            starts[i].Ready.Wait();
            starts[i].Ready.Dispose();
            if (starts[i].Failure is { } error)
            {
                failure ??= error;
            }
            else
            {
                _loops[i] = starts[i].Loop!;
            }
        }

        if (failure is not null)
        {
            _stopping = true;
            foreach (Loop? loop in _loops)
            {
                loop?.Stop();
            }

            foreach (Thread thread in _threads)
            {
                thread.Join();
            }

            throw failure;
        }
    }

    /// <summary>The group's name (<see cref="LoopGroupOptions.Name"/>).</summary>
    public string Name { get; }

    /// <summary>The number of loops.</summary>
    public int Count => _loops.Length;

    /// <summary>The loops, in index order; loop <c>i</c> is named <c>&lt;Name&gt;-&lt;i&gt;</c>.</summary>
    public IReadOnlyList<Loop> Loops => _readOnlyLoops;

    /// <summary>True once <see cref="StopAsync"/> (or Dispose) was called.</summary>
    public bool IsStopping => _stopping;

    /// <summary>The loop at <paramref name="index"/>.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    /// <returns>The loop.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not less than <see cref="Count"/>.</exception>
    public Loop this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _loops.Length);
            return _loops[index];
        }
    }

    /// <summary>
    /// The next loop in strict round robin: N calls, from any mix of threads, hand out each loop
    /// N / <see cref="Count"/> times (one atomic increment). Any thread.
    /// </summary>
    /// <returns>A loop of the group.</returns>
    public Loop Next()
    {
        ulong n = (ulong)Interlocked.Increment(ref _next);
        return _loops[(int)(n % (ulong)_loops.Length)];
    }

    /// <summary>
    /// Stops every loop and completes when every thread has left its loop. Each loop is disposed
    /// by its own thread: its live greenlets are killed and given a few iterations to run their
    /// <c>finally</c> blocks, then its descriptors are closed. Idempotent; any thread, including
    /// one of the group's loops (whose greenlet awaiting this is killed with the others).
    /// </summary>
    /// <returns>A task that completes when every loop is stopped and disposed.</returns>
    public Task StopAsync()
    {
        _stopping = true;
        foreach (Loop loop in _loops)
        {
            loop.Stop();
        }

        return _stopped.Task;
    }

    /// <summary>Stops the group (<see cref="StopAsync"/>).</summary>
    /// <returns>A task that completes when every loop is stopped and disposed.</returns>
    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Stops every loop and joins the threads. Any thread except the group's own.</summary>
    /// <exception cref="InvalidOperationException">Called on one of the group's threads (it would wait for itself).</exception>
    public void Dispose()
    {
        if (Array.IndexOf(_threads, Thread.CurrentThread) >= 0)
        {
            throw new InvalidOperationException("A loop group cannot be disposed from one of its own loops (it would join itself); use StopAsync.");
        }

        _ = StopAsync();
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }
    }

    private static void WriteFailure(string loopName, Exception error)
    {
        Greenlet? greenlet = Greenlet.Current;
        string where = greenlet is null ? string.Empty : $" in greenlet #{greenlet.Id} '{greenlet.Name}'";
        try
        {
            Console.Error.WriteLine($"EventLoop: loop '{loopName}': unhandled exception{where}: {error}");
        }
        catch (IOException)
        {
            // Standard error closed: nothing left to report to.
        }
    }

    private void RunThread(object? state)
    {
        var start = (LoopStart)state!;
        Loop? loop = null;
        try
        {
            if (start.Cpu >= 0 && Libc.PinCurrentThread(start.Cpu) is int errno and not 0)
            {
                Console.Error.WriteLine($"EventLoop: loop '{start.Options.Name}' could not be pinned to CPU {start.Cpu} (errno {errno}); it runs unpinned.");
            }

            loop = new Loop(start.Options);
            start.Loop = loop;
        }
        catch (Exception ex)
        {
            start.Failure = ex;
        }
        finally
        {
            start.Ready.Set();
        }

        try
        {
            if (loop is not null)
            {
                RunUntilGroupStops(loop);
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _threadsRunning) == 0)
            {
                _stopped.TrySetResult();
            }
        }
    }

    private void RunUntilGroupStops(Loop loop)
    {
        // A Stop of this loop alone only ends one Run; the loop lives until the group stops.
        while (!_stopping)
        {
            try
            {
                loop.Run();
            }
            catch (Exception ex)
            {
                WriteFailure(loop.Name, ex);
                break;
            }
        }

        try
        {
            loop.Dispose(); // it also ends the spawns other threads left in its inbox
        }
        catch (Exception ex)
        {
            WriteFailure(loop.Name, ex);
        }
    }

    /// <summary>What a loop thread hands back to the constructor.</summary>
    private sealed class LoopStart(LoopOptions options, int cpu)
    {
        public LoopOptions Options { get; } = options;

        public int Cpu { get; } = cpu;

        public ManualResetEventSlim Ready { get; } = new();

        public Loop? Loop { get; set; }

        public Exception? Failure { get; set; }
    }
}
