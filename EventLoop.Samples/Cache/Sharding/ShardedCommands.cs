using System.Buffers;
using System.Buffers.Text;

namespace EventLoop.Samples.Cache.Sharding;

/// <summary>
/// Runs one request of a connection against the shards that own its keys, like Dragonfly: a
/// single-key command goes whole to its owner; DEL, EXISTS, MGET and MSET are split by owner, sent
/// to every owner at once and gathered (counts summed, values put back in key order); DBSIZE sums
/// and FLUSHALL/FLUSHDB run everywhere, as one step; INFO reports the keyspace summed over every shard; everything else (PING, CLIENT, errors) runs on the
/// connection's own shard. Work for the connection's own shard runs inline, without a hop.
/// </summary>
/// <remarks>
/// A command whose keys span shards runs as one step, as in Redis: it takes the owners'
/// <see cref="CacheShard.Gate"/>s in shard order (two such commands therefore never wait for each
/// other in a cycle), runs every part while all are held, and lets them go; commands for those
/// shards that arrive meanwhile wait behind it. So no client sees an MSET half applied, and MGET
/// reads its keys at one instant.
/// </remarks>
internal static class ShardedCommands
{
    private static readonly ReadOnlyMemory<byte> s_get = "GET"u8.ToArray();
    private static readonly Func<CacheShard, List<ReadOnlyMemory<byte>>, bool> s_hasRoom = static (shard, part) => shard.Processor.MSetHasRoom(part);

    /// <summary>Executes <paramref name="args"/> and appends exactly one reply to <paramref name="output"/>.</summary>
    public static async ValueTask<CommandResult> ExecuteAsync(
        CacheShard[] shards, CacheShard home, ClientSession session, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (shards.Length == 1 || !CommandTable.TryGet(args[0].Span, out CommandSpec spec) || !spec.AcceptsCount(args.Count))
        {
            return home.Processor.Execute(args, output, session);
        }

        switch (spec.Id)
        {
            case CommandId.Get or CommandId.Set or CommandId.Incr or CommandId.Decr or CommandId.IncrBy or CommandId.DecrBy
                or CommandId.Expire or CommandId.PExpire or CommandId.ExpireAt or CommandId.PExpireAt
                or CommandId.Ttl or CommandId.PTtl or CommandId.Persist:
                await ForwardWholeAsync(shards[HashSlot.ShardOf(args[1].Span, shards.Length)], home, session, args, output);
                return CommandResult.Continue;
            case CommandId.Del or CommandId.Exists:
                await SumAsync(shards, home, session, args, output, firstKey: 1, step: 1);
                return CommandResult.Continue;
            case CommandId.MSet when (args.Count - 1) % 2 == 0:
                await SumAsync(shards, home, session, args, output, firstKey: 1, step: 2);
                return CommandResult.Continue;
            case CommandId.MGet:
                await MGetAsync(shards, home, session, args, output);
                return CommandResult.Continue;
            case CommandId.DbSize:
                await EverywhereAsync(shards, home, args, output, sum: true);
                return CommandResult.Continue;
            case CommandId.FlushAll or CommandId.FlushDb:
                await EverywhereAsync(shards, home, args, output, sum: false);
                return CommandResult.Continue;
            case CommandId.Info:
                await InfoAsync(shards, home, args, output);
                return CommandResult.Continue;
            default:
                return home.Processor.Execute(args, output, session);
        }
    }

    /// <summary>
    /// True when <see cref="ExecuteAsync"/> may hand <paramref name="args"/> to another shard: the
    /// caller must then give it a copy that outlives the parser's next request. A request that stays
    /// on the home shard but has to wait at its gate is copied by <see cref="ExecuteAsync"/> itself.
    /// </summary>
    public static bool MayForward(CacheShard[] shards, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        if (shards.Length == 1 || !CommandTable.TryGet(args[0].Span, out CommandSpec spec) || !spec.AcceptsCount(args.Count))
        {
            return false;
        }

        switch (spec.Id)
        {
            case CommandId.Get or CommandId.Set or CommandId.Incr or CommandId.Decr or CommandId.IncrBy or CommandId.DecrBy
                or CommandId.Expire or CommandId.PExpire or CommandId.ExpireAt or CommandId.PExpireAt
                or CommandId.Ttl or CommandId.PTtl or CommandId.Persist:
                return HashSlot.ShardOf(args[1].Span, shards.Length) != home.Index;
            case CommandId.Del or CommandId.Exists or CommandId.MGet:
                return AnyElsewhere(shards.Length, home, args, 1);
            case CommandId.MSet:
                return (args.Count - 1) % 2 == 0 && AnyElsewhere(shards.Length, home, args, 2);
            case CommandId.DbSize or CommandId.FlushAll or CommandId.FlushDb or CommandId.Info:
                return true;
            default:
                return false;
        }
    }

    /// <summary>A copy of <paramref name="args"/> that outlives the parser's next request.</summary>
    public static ReadOnlyMemory<byte>[] Copy(IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        var copy = new ReadOnlyMemory<byte>[args.Count];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = args[i].ToArray();
        }

        return copy;
    }

    private static bool AnyElsewhere(int shardCount, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args, int step)
    {
        for (int k = 1; k < args.Count; k += step)
        {
            if (HashSlot.ShardOf(args[k].Span, shardCount) != home.Index)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when <paramref name="args"/> is a multi-key command whose keys span shards, or DBSIZE,
    /// INFO or a flush (every shard): it runs as one step (see the remarks), and the connection
    /// starts nothing after it until it is done, so its later requests see its effect and it sees
    /// none of theirs.
    /// </summary>
    public static bool SpansShards(CacheShard[] shards, IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        if (shards.Length == 1 || !CommandTable.TryGet(args[0].Span, out CommandSpec spec) || !spec.AcceptsCount(args.Count))
        {
            return false;
        }

        if (spec.Id is CommandId.DbSize or CommandId.FlushAll or CommandId.FlushDb or CommandId.Info)
        {
            // Every shard, as one step. INFO too: it takes the gates one hop at a time, so a later
            // request started meanwhile would reach a shard before its count is taken.
            return true;
        }

        int step = spec.Id switch
        {
            CommandId.Del or CommandId.Exists or CommandId.MGet => 1,
            CommandId.MSet when (args.Count - 1) % 2 == 0 => 2,
            _ => 0,
        };
        if (step == 0)
        {
            return false;
        }

        int first = HashSlot.ShardOf(args[1].Span, shards.Length);
        for (int k = 1 + step; k < args.Count; k += step)
        {
            if (HashSlot.ShardOf(args[k].Span, shards.Length) != first)
            {
                return true;
            }
        }

        return false;
    }

    private static async ValueTask ForwardWholeAsync(CacheShard owner, CacheShard home, ClientSession session, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (ReferenceEquals(owner, home))
        {
            if (!home.Gate.IsLocked)
            {
                home.Processor.Execute(args, output, session);
                return;
            }

            // It waits at the gate, and the connection's parser meanwhile reuses the storage of
            // arguments it did not copy (MayForward said they stay here): take a copy first.
            output.Write(await home.ExecuteGatedAsync(Copy(args), session));
            return;
        }

        // The connection copied the arguments (MayForward), so they outlive its next request.
        output.Write(await owner.Loop.InvokeAsync(() => owner.ExecuteGatedAsync(args)));
    }

    /// <summary>
    /// Runs <paramref name="run"/> on every shard that has a part, as one step (strict two-phase
    /// locking): the owners' gates are taken in shard order, each part runs on its shard as soon as
    /// that shard's gate is taken (one hop per shard), and every gate is held until all parts have
    /// run, then let go on its own loop. Nobody sees a part before the whole command is applied,
    /// since anyone who would look waits at a gate still held. Whether a gate is held is recorded
    /// and read only on that gate's loop, so a gate taken just as this caller was killed is still
    /// let go.
    /// </summary>
    private static async Task<T[]> AcrossShardsAsync<T>(
        CacheShard[] shards, CacheShard home, List<ReadOnlyMemory<byte>>?[] parts, Func<CacheShard, List<ReadOnlyMemory<byte>>, T> run)
    {
        var held = new bool[shards.Length];
        try
        {
            return (await TakeGatesAsync(shards, home, parts, held, run, stopAt: null))!;
        }
        finally
        {
            LetGatesGo(shards, home, parts, held);
        }
    }

    /// <summary>
    /// Takes the gate of every owner of a part, in shard order, and runs <paramref name="run"/>
    /// on its part there (one hop per shard); the gates stay held (<see cref="LetGatesGo"/>).
    /// Returns the results, or null as soon as <paramref name="stopAt"/> says a result ends it.
    /// </summary>
    private static async Task<T[]?> TakeGatesAsync<T>(
        CacheShard[] shards, CacheShard home, List<ReadOnlyMemory<byte>>?[] parts, bool[] held,
        Func<CacheShard, List<ReadOnlyMemory<byte>>, T> run, Func<T, bool>? stopAt)
    {
        var results = new T[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            if (parts[i] is not { } part)
            {
                continue;
            }

            CacheShard shard = shards[i];
            int index = i;
            results[i] = ReferenceEquals(shard, home)
                ? await TakeGateAndRunAsync(shard, held, index, part, run)
                : await shard.Loop.InvokeAsync(() => TakeGateAndRunAsync(shard, held, index, part, run));
            if (stopAt?.Invoke(results[i]) == true)
            {
                return null;
            }
        }

        return results;
    }

    private static void LetGatesGo(CacheShard[] shards, CacheShard home, List<ReadOnlyMemory<byte>>?[] parts, bool[] held)
    {
        for (int i = 0; i < shards.Length; i++)
        {
            if (parts[i] is not null)
            {
                LetGateGo(shards[i], home, held, i);
            }
        }
    }

    /// <summary>
    /// MSET across shards, as one step in two phases under the same gates: every owner checks that
    /// its part fits under its key bound (taking its gate, in shard order), and only when all do
    /// does every owner apply its part. So an OOM error leaves every key as it was, as in Redis.
    /// </summary>
    private static async ValueTask MSetAcrossShardsAsync(CacheShard[] shards, CacheShard home, List<ReadOnlyMemory<byte>>?[] parts, IBufferWriter<byte> output)
    {
        if (home.Store.MaxKeys == 0)
        {
            // No key bound, so no part can be refused: one phase, one hop per owner.
            _ = await AcrossShardsAsync(shards, home, parts, static (shard, part) => shard.Execute(part));
            RespWriter.WriteOk(output);
            return;
        }

        var held = new bool[shards.Length];
        try
        {
            if (await TakeGatesAsync(shards, home, parts, held, s_hasRoom, stopAt: static room => !room) is null)
            {
                RespWriter.WriteError(output, RespErrors.OutOfMemory);
                return;
            }

            for (int i = 0; i < shards.Length; i++)
            {
                if (parts[i] is not { } part)
                {
                    continue;
                }

                CacheShard shard = shards[i];
                _ = ReferenceEquals(shard, home) ? shard.Execute(part) : await shard.Loop.InvokeAsync(() => Task.FromResult(shard.Execute(part)));
            }

            RespWriter.WriteOk(output);
        }
        finally
        {
            LetGatesGo(shards, home, parts, held);
        }
    }

    private static async Task<T> TakeGateAndRunAsync<T>(
        CacheShard shard, bool[] held, int index, List<ReadOnlyMemory<byte>> part, Func<CacheShard, List<ReadOnlyMemory<byte>>, T> run)
    {
        _ = await shard.Gate.AcquireAsync(); // let go by LetGateGo, not by this releaser
        held[index] = true;
        return run(shard, part);
    }

    private static void LetGateGo(CacheShard shard, CacheShard home, bool[] held, int index)
    {
        if (ReferenceEquals(shard, home))
        {
            Release(shard, held, index);
            return;
        }

        try
        {
            // Queued after anything this loop sent the shard before, the gate's taking included.
            shard.Loop.Post(() => Release(shard, held, index));
        }
        catch (ObjectDisposedException)
        {
            // The shard's loop is gone (the server stops): nothing waits behind its gate.
        }

        static void Release(CacheShard shard, bool[] held, int index)
        {
            if (held[index])
            {
                held[index] = false;
                shard.Gate.Release();
            }
        }
    }

    /// <summary>
    /// DEL and EXISTS (one key per step): each owner runs the same command on its keys and the
    /// integer replies are summed; the first error wins. MSET (key, value pairs) whose keys span
    /// shards goes to <see cref="MSetAcrossShardsAsync"/>.
    /// </summary>
    private static async ValueTask SumAsync(
        CacheShard[] shards, CacheShard home, ClientSession session, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, int firstKey, int step)
    {
        List<ReadOnlyMemory<byte>>?[] parts = SplitByOwner(shards, args, firstKey, step, out int owners, out int single);
        if (owners == 1)
        {
            await ForwardWholeAsync(shards[single], home, session, args, output);
            return;
        }

        if (step == 2)
        {
            await MSetAcrossShardsAsync(shards, home, parts, output);
            return;
        }

        byte[][] replies = await AcrossShardsAsync(shards, home, parts, static (shard, part) => shard.Execute(part));
        long total = 0;
        byte[]? error = null;
        foreach (byte[] reply in replies)
        {
            if (reply is null)
            {
                continue;
            }

            if (reply[0] == (byte)'-')
            {
                error ??= reply;
            }
            else if (reply[0] == (byte)':' && Utf8Parser.TryParse(reply.AsSpan(1), out long n, out _))
            {
                total += n;
            }
        }

        if (error is not null)
        {
            output.Write(error);
        }
        else
        {
            RespWriter.WriteInteger(output, total);
        }
    }

    private static async ValueTask MGetAsync(CacheShard[] shards, CacheShard home, ClientSession session, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        List<ReadOnlyMemory<byte>>?[] parts = SplitByOwner(shards, args, 1, 1, out int owners, out int single);
        if (owners == 1)
        {
            await ForwardWholeAsync(shards[single], home, session, args, output);
            return;
        }

        // Each owner answers a GET per key of its part; the replies are put back in key order.
        byte[][][] byShard = await AcrossShardsAsync(shards, home, parts, static (shard, part) => GetEach(shard, part));

        RespWriter.WriteArrayHeader(output, args.Count - 1);
        var next = new int[shards.Length];
        for (int k = 1; k < args.Count; k++)
        {
            int owner = HashSlot.ShardOf(args[k].Span, shards.Length);
            output.Write(byShard[owner][next[owner]++]);
        }
    }

    /// <summary>
    /// DBSIZE (counts summed) and FLUSHALL/FLUSHDB (the home shard's reply): every shard runs the
    /// command, as one step like a spanning command, so a count is taken at one instant and a flush
    /// never lands between the parts of a spanning MSET.
    /// </summary>
    private static async ValueTask EverywhereAsync(CacheShard[] shards, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, bool sum)
    {
        var command = new List<ReadOnlyMemory<byte>>(args);
        var parts = new List<ReadOnlyMemory<byte>>?[shards.Length];
        Array.Fill(parts, command);
        byte[][] replies = await AcrossShardsAsync(shards, home, parts, static (shard, part) => shard.Execute(part));

        if (!sum)
        {
            output.Write(replies[home.Index]);
            return;
        }

        long total = 0;
        foreach (byte[] reply in replies)
        {
            if (reply.Length > 0 && reply[0] == (byte)':' && Utf8Parser.TryParse(reply.AsSpan(1), out long n, out _))
            {
                total += n;
            }
        }

        RespWriter.WriteInteger(output, total);
    }

    /// <summary>
    /// INFO, run by the home shard with the keyspace counts summed over every shard, each taken at
    /// the same instant as DBSIZE's (behind every shard's gate).
    /// </summary>
    private static async ValueTask InfoAsync(CacheShard[] shards, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        var command = new List<ReadOnlyMemory<byte>>(args);
        var parts = new List<ReadOnlyMemory<byte>>?[shards.Length];
        Array.Fill(parts, command);
        (int Keys, int Expires)[] counts = await AcrossShardsAsync(shards, home, parts, static (shard, _) => (shard.Store.Count, shard.Store.VolatileCount));
        home.Processor.Info(args, output, counts.Sum(c => (long)c.Keys), counts.Sum(c => (long)c.Expires));
    }

    private static byte[][] GetEach(CacheShard shard, List<ReadOnlyMemory<byte>> part)
    {
        // part is the command name followed by this shard's keys.
        var replies = new byte[part.Count - 1][];
        var get = new ReadOnlyMemory<byte>[2];
        get[0] = s_get;
        for (int i = 1; i < part.Count; i++)
        {
            get[1] = part[i];
            replies[i - 1] = shard.Execute(get);
        }

        return replies;
    }

    /// <summary>Splits a multi-key request into one request per owning shard (the command name first, then its keys, or key/value pairs).</summary>
    private static List<ReadOnlyMemory<byte>>?[] SplitByOwner(
        CacheShard[] shards, IReadOnlyList<ReadOnlyMemory<byte>> args, int firstKey, int step, out int owners, out int single)
    {
        var parts = new List<ReadOnlyMemory<byte>>?[shards.Length];
        owners = 0;
        single = 0;
        for (int k = firstKey; k < args.Count; k += step)
        {
            int owner = HashSlot.ShardOf(args[k].Span, shards.Length);
            if (parts[owner] is not { } part)
            {
                parts[owner] = part = [args[0]];
                owners++;
                single = owner;
            }

            for (int j = 0; j < step; j++)
            {
                part.Add(args[k + j]);
            }
        }

        return parts;
    }
}
