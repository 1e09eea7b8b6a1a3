using System.Buffers;

namespace EventLoop.Samples.Cache.Sharding;

/// <summary>
/// One shard of the sharded cache: a keyspace, its processor and its expiry cycles, touched only
/// on the shard's loop (shared nothing).
/// </summary>
internal sealed class CacheShard
{
    // Redis's hz 10, as the single-loop server.
    private static readonly TimeSpan s_cronInterval = TimeSpan.FromMilliseconds(100);

    private TimerHandle? _cron;
    private IDisposable? _beforePoll;

    /// <summary>Creates the shard's state. On the shard's loop.</summary>
    public CacheShard(Loop loop, int index, int maxKeys, IServerStatus? status)
    {
        Loop = loop;
        Index = index;
        Store = new CacheStore(loop.Time, maxKeys);
        Expiry = new ActiveExpiry(Store, s_cronInterval);
        Processor = new CommandProcessor(Store) { Status = status };
        Gate = new LoopLock(loop);
    }

    /// <summary>
    /// Held by a command that spans shards while it runs its parts (<see cref="ShardedCommands"/>):
    /// a command for this shard that arrives meanwhile waits behind it, in arrival order, so no
    /// one sees such a command half applied. Free almost always: checking it is the only cost.
    /// </summary>
    public LoopLock Gate { get; }

    public Loop Loop { get; }

    public int Index { get; }

    public CacheStore Store { get; }

    public ActiveExpiry Expiry { get; }

    public CommandProcessor Processor { get; }

    /// <summary>Arms the expiry cycles (slow on a cron, fast before each poll). On the shard's loop.</summary>
    public void StartCycles()
    {
        _cron = Loop.CallLater(s_cronInterval, Cron);
        _beforePoll = Loop.OnBeforePoll(() => Expiry.RunFastCycle());
    }

    /// <summary>Disarms the cycles. On the shard's loop.</summary>
    public void StopCycles()
    {
        _cron?.Cancel();
        _cron = null;
        _beforePoll?.Dispose();
        _beforePoll = null;
    }

    /// <summary>Executes one request here (for <paramref name="session"/>'s connection, when given) and returns its reply's bytes. On the shard's loop.</summary>
    public byte[] Execute(IReadOnlyList<ReadOnlyMemory<byte>> args, ClientSession? session = null)
    {
        var output = new ArrayBufferWriter<byte>();
        Processor.Execute(args, output, session);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Executes one request here once no command spanning shards holds <see cref="Gate"/>, and
    /// returns its reply's bytes. On the shard's loop.
    /// </summary>
    public Task<byte[]> ExecuteGatedAsync(IReadOnlyList<ReadOnlyMemory<byte>> args, ClientSession? session = null) =>
        Gate.IsLocked ? ExecuteBehindGateAsync(args, session) : Task.FromResult(Execute(args, session));

    private async Task<byte[]> ExecuteBehindGateAsync(IReadOnlyList<ReadOnlyMemory<byte>> args, ClientSession? session)
    {
        using (await Gate.AcquireAsync())
        {
            return Execute(args, session);
        }
    }

    private void Cron()
    {
        Expiry.RunSlowCycle();
        _cron = Loop.CallLater(s_cronInterval, Cron);
    }
}
