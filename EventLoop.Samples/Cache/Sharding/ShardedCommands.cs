using System.Buffers;
using System.Buffers.Text;

namespace EventLoop.Samples.Cache.Sharding;

/// <summary>
/// Runs one request of a connection against the shards that own its keys, like Dragonfly: a
/// single-key command goes whole to its owner; DEL, EXISTS, MGET and MSET are split by owner, sent
/// to every owner at once and gathered (counts summed, values put back in key order); DBSIZE sums
/// and FLUSHALL/FLUSHDB run everywhere; everything else (PING, INFO, CLIENT, errors) runs on the
/// connection's own shard. Work for the connection's own shard runs inline, without a hop.
/// </summary>
/// <remarks>
/// MSET across shards is not atomic (each shard applies its part); within one shard it is.
/// </remarks>
internal static class ShardedCommands
{
    private static readonly ReadOnlyMemory<byte> s_get = "GET"u8.ToArray();

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
            default:
                return home.Processor.Execute(args, output, session);
        }
    }

    /// <summary>
    /// True when <see cref="ExecuteAsync"/> may hand <paramref name="args"/> to another shard: the
    /// caller must then give it a copy that outlives the parser's next request.
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
            case CommandId.DbSize or CommandId.FlushAll or CommandId.FlushDb:
                return true;
            default:
                return false;
        }
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

    private static async ValueTask ForwardWholeAsync(CacheShard owner, CacheShard home, ClientSession session, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (ReferenceEquals(owner, home))
        {
            home.Processor.Execute(args, output, session);
            return;
        }

        // The connection copied the arguments (MayForward), so they outlive its next request.
        output.Write(await owner.Loop.InvokeAsync(() => Task.FromResult(owner.Execute(args))));
    }

    /// <summary>
    /// DEL and EXISTS (one key per step) or MSET (key, value pairs): each owner runs the same
    /// command on its keys; integer replies are summed, +OK replies give +OK. The first error wins.
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

        var replies = new Task<byte[]>[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            if (parts[i] is { } part)
            {
                replies[i] = Run(shards[i], home, part);
            }
        }

        long total = 0;
        byte[]? error = null;
        byte[]? ok = null;
        foreach (Task<byte[]> pending in replies)
        {
            if (pending is null)
            {
                continue;
            }

            byte[] reply = await pending;
            if (reply[0] == (byte)'-')
            {
                error ??= reply;
            }
            else if (reply[0] == (byte)':' && Utf8Parser.TryParse(reply.AsSpan(1), out long n, out _))
            {
                total += n;
            }
            else
            {
                ok ??= reply;
            }
        }

        if (error is not null)
        {
            output.Write(error);
        }
        else if (step == 2)
        {
            output.Write(ok);
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
        var replies = new Task<byte[][]>[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            if (parts[i] is { } part)
            {
                CacheShard shard = shards[i];
                replies[i] = ReferenceEquals(shard, home)
                    ? Task.FromResult(GetEach(shard, part))
                    : shard.Loop.InvokeAsync(() => Task.FromResult(GetEach(shard, part)));
            }
        }

        var byShard = new byte[shards.Length][][];
        for (int i = 0; i < shards.Length; i++)
        {
            if (replies[i] is { } pending)
            {
                byShard[i] = await pending;
            }
        }

        RespWriter.WriteArrayHeader(output, args.Count - 1);
        var next = new int[shards.Length];
        for (int k = 1; k < args.Count; k++)
        {
            int owner = HashSlot.ShardOf(args[k].Span, shards.Length);
            output.Write(byShard[owner][next[owner]++]);
        }
    }

    private static async ValueTask EverywhereAsync(CacheShard[] shards, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, bool sum)
    {
        var replies = new Task<byte[]>[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            replies[i] = Run(shards[i], home, args);
        }

        long total = 0;
        byte[]? homeReply = null;
        for (int i = 0; i < shards.Length; i++)
        {
            byte[] reply = await replies[i];
            if (ReferenceEquals(shards[i], home))
            {
                homeReply = reply;
            }

            if (reply.Length > 0 && reply[0] == (byte)':' && Utf8Parser.TryParse(reply.AsSpan(1), out long n, out _))
            {
                total += n;
            }
        }

        if (sum)
        {
            RespWriter.WriteInteger(output, total);
        }
        else
        {
            output.Write(homeReply);
        }
    }

    private static Task<byte[]> Run(CacheShard shard, CacheShard home, IReadOnlyList<ReadOnlyMemory<byte>> args) =>
        ReferenceEquals(shard, home) ? Task.FromResult(shard.Execute(args)) : shard.Loop.InvokeAsync(() => Task.FromResult(shard.Execute(args)));

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
