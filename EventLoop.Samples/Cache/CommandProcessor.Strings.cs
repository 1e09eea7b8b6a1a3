using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <content>String commands: GET, SET, DEL, EXISTS, the INCR family, MGET, MSET.</content>
public sealed partial class CommandProcessor
{
    // Budget for reclaiming expired keys before refusing a write with OOM: one Redis-sized pass.
    private const int OomReclaimBudget = 200;

    [Flags]
    private enum SetOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Ex = 16,
        Px = 32,
        ExAt = 64,
        PxAt = 128,
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    private void Get(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        var entry = _store.Find(args[1].Span);
        WriteValue(output, entry);
    }

    // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL], with Redis 7's option rules
    // (a repeated option is allowed, conflicting ones are a syntax error).
    private void Set(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        var options = SetOptions.None;
        int expireIndex = -1;
        for (int j = 3; j < args.Count; j++)
        {
            var option = args[j].Span;
            bool hasNext = j < args.Count - 1;
            if (Ascii.EqualsIgnoreCase(option, "nx"u8) && (options & SetOptions.Xx) == 0)
            {
                options |= SetOptions.Nx;
            }
            else if (Ascii.EqualsIgnoreCase(option, "xx"u8) && (options & SetOptions.Nx) == 0)
            {
                options |= SetOptions.Xx;
            }
            else if (Ascii.EqualsIgnoreCase(option, "get"u8))
            {
                options |= SetOptions.Get;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keepttl"u8) && (options & SetOptions.AnyExpire) == 0)
            {
                options |= SetOptions.KeepTtl;
            }
            else if (hasNext && TryExpireOption(option, options, out var expireOption))
            {
                options |= expireOption;
                expireIndex = ++j;
            }
            else
            {
                RespWriter.WriteError(output, RespErrors.SyntaxError);
                return;
            }
        }

        long expiresAt = CacheEntry.NoExpiry;
        if (expireIndex >= 0 && !TryGetSetExpiry(args[expireIndex].Span, options, output, out expiresAt))
        {
            return;
        }

        var key = args[1].Span;
        var entry = _store.Find(key);
        if (entry is null && !HasRoomFor(1, output))
        {
            return;
        }

        if ((options & SetOptions.Get) != 0)
        {
            WriteValue(output, entry);
        }

        if (((options & SetOptions.Nx) != 0 && entry is not null) || ((options & SetOptions.Xx) != 0 && entry is null))
        {
            if ((options & SetOptions.Get) == 0)
            {
                RespWriter.WriteNullBulkString(output);
            }

            return;
        }

        entry = _store.Upsert(entry, key, args[2].ToArray(), keepTtl: (options & SetOptions.KeepTtl) != 0);
        if (expiresAt != CacheEntry.NoExpiry)
        {
            _store.SetExpiry(entry, expiresAt);
        }

        if ((options & SetOptions.Get) == 0)
        {
            RespWriter.WriteOk(output);
        }
    }

    // EX/PX/EXAT/PXAT are accepted unless KEEPTTL or a different expire option came first.
    private static bool TryExpireOption(ReadOnlySpan<byte> option, SetOptions options, out SetOptions expireOption)
    {
        expireOption = option switch
        {
            _ when Ascii.EqualsIgnoreCase(option, "ex"u8) => SetOptions.Ex,
            _ when Ascii.EqualsIgnoreCase(option, "px"u8) => SetOptions.Px,
            _ when Ascii.EqualsIgnoreCase(option, "exat"u8) => SetOptions.ExAt,
            _ when Ascii.EqualsIgnoreCase(option, "pxat"u8) => SetOptions.PxAt,
            _ => SetOptions.None,
        };

        var conflicting = SetOptions.KeepTtl | (SetOptions.AnyExpire & ~expireOption);
        return expireOption != SetOptions.None && (options & conflicting) == 0;
    }

    // Redis's getExpireMillisecondsOrReply: positive, no overflow when scaled or made absolute.
    private bool TryGetSetExpiry(ReadOnlySpan<byte> text, SetOptions options, IBufferWriter<byte> output, out long expiresAt)
    {
        expiresAt = CacheEntry.NoExpiry;
        if (!RespNumber.TryParseInt64(text, out long value))
        {
            RespWriter.WriteError(output, RespErrors.NotAnInteger);
            return false;
        }

        bool seconds = (options & (SetOptions.Ex | SetOptions.ExAt)) != 0;
        if (value <= 0 || (seconds && value > long.MaxValue / 1000))
        {
            RespWriter.WriteError(output, RespErrors.InvalidExpireTime("set"));
            return false;
        }

        if (seconds)
        {
            value *= 1000;
        }

        if ((options & (SetOptions.Ex | SetOptions.Px)) != 0)
        {
            long now = _store.NowMs;
            if (value > long.MaxValue - now)
            {
                RespWriter.WriteError(output, RespErrors.InvalidExpireTime("set"));
                return false;
            }

            value += now;
        }

        expiresAt = value;
        return true;
    }

    private void Del(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        int deleted = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (_store.Remove(args[i].Span))
            {
                deleted++;
            }
        }

        RespWriter.WriteInteger(output, deleted);
    }

    // Counts repeats, as Redis does: EXISTS k k is 2 when k exists.
    private void Exists(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        int found = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (_store.Find(args[i].Span) is not null)
            {
                found++;
            }
        }

        RespWriter.WriteInteger(output, found);
    }

    private void IncrByCommand(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, bool negate)
    {
        if (!RespNumber.TryParseInt64(args[2].Span, out long increment))
        {
            RespWriter.WriteError(output, RespErrors.NotAnInteger);
            return;
        }

        if (negate)
        {
            if (increment == long.MinValue)
            {
                RespWriter.WriteError(output, RespErrors.DecrOverflow);
                return;
            }

            increment = -increment;
        }

        IncrBy(args, output, increment);
    }

    // A missing key counts as 0. The key keeps its TTL, as in Redis.
    private void IncrBy(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, long increment)
    {
        var key = args[1].Span;
        var entry = _store.Find(key);
        long value = 0;
        if (entry is not null && !RespNumber.TryParseInt64(entry.Value, out value))
        {
            RespWriter.WriteError(output, RespErrors.NotAnInteger);
            return;
        }

        if ((increment < 0 && value < 0 && increment < long.MinValue - value)
            || (increment > 0 && value > 0 && increment > long.MaxValue - value))
        {
            RespWriter.WriteError(output, RespErrors.IncrOverflow);
            return;
        }

        if (entry is null && !HasRoomFor(1, output))
        {
            return;
        }

        value += increment;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int length);
        if (entry is not null && entry.Value.Length == length)
        {
            // Only the store references the array (replies copy it), so reuse it.
            digits[..length].CopyTo(entry.Value);
        }
        else
        {
            _store.Upsert(entry, key, digits[..length].ToArray(), keepTtl: true);
        }

        RespWriter.WriteInteger(output, value);
    }

    private void MGet(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        RespWriter.WriteArrayHeader(output, args.Count - 1);
        for (int i = 1; i < args.Count; i++)
        {
            WriteValue(output, _store.Find(args[i].Span));
        }
    }

    private void MSet(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (args.Count % 2 == 0)
        {
            RespWriter.WriteError(output, RespErrors.WrongArity("mset"));
            return;
        }

        if (!MSetHasRoom(args))
        {
            RespWriter.WriteError(output, RespErrors.OutOfMemory);
            return;
        }

        for (int i = 1; i < args.Count; i += 2)
        {
            _store.Upsert(args[i].Span, args[i + 1].ToArray(), keepTtl: false);
        }

        RespWriter.WriteOk(output);
    }

    /// <summary>
    /// True when the MSET request <paramref name="args"/> (key, value pairs after the name) may add
    /// its new keys under <see cref="CacheStore.MaxKeys"/>, once expired keys are reclaimed; it
    /// writes nothing. A sharded MSET asks every owner before any applies its part.
    /// </summary>
    /// <param name="args">MSET and its key, value pairs.</param>
    /// <returns>False when MSET would get the OOM error.</returns>
    internal bool MSetHasRoom(IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        if (_store.MaxKeys == 0)
        {
            return true;
        }

        // Conservative: a key repeated within the request counts once per occurrence.
        int missing = 0;
        for (int i = 1; i < args.Count; i += 2)
        {
            if (_store.Find(args[i].Span) is null)
            {
                missing++;
            }
        }

        return HasRoomFor(missing);
    }

    // MaxKeys check for writes that add keys: first reclaim expired keys, then refuse with OOM.
    private bool HasRoomFor(int newKeys, IBufferWriter<byte> output)
    {
        if (HasRoomFor(newKeys))
        {
            return true;
        }

        RespWriter.WriteError(output, RespErrors.OutOfMemory);
        return false;
    }

    private bool HasRoomFor(int newKeys)
    {
        if (_store.MaxKeys == 0 || newKeys == 0 || _store.Count + newKeys <= _store.MaxKeys)
        {
            return true;
        }

        _store.ExpireSample(OomReclaimBudget);
        return _store.Count + newKeys <= _store.MaxKeys;
    }

    private static void WriteValue(IBufferWriter<byte> output, CacheEntry? entry)
    {
        if (entry is null)
        {
            RespWriter.WriteNullBulkString(output);
        }
        else
        {
            RespWriter.WriteStoredBulkString(output, entry.Value);
        }
    }
}
