using System.Buffers;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <content>Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, PERSIST.</content>
public sealed partial class CommandProcessor
{
    [Flags]
    private enum ExpireOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }

    // Redis 7's expireGenericCommand: [NX|XX|GT|LT], a time at or before now deletes the key, and
    // GT treats "no expiry" as infinite.
    private void Expire(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, string name, bool relative, bool seconds)
    {
        var options = ExpireOptions.None;
        for (int j = 3; j < args.Count; j++)
        {
            var option = args[j].Span;
            if (Ascii.EqualsIgnoreCase(option, "nx"u8))
            {
                options |= ExpireOptions.Nx;
            }
            else if (Ascii.EqualsIgnoreCase(option, "xx"u8))
            {
                options |= ExpireOptions.Xx;
            }
            else if (Ascii.EqualsIgnoreCase(option, "gt"u8))
            {
                options |= ExpireOptions.Gt;
            }
            else if (Ascii.EqualsIgnoreCase(option, "lt"u8))
            {
                options |= ExpireOptions.Lt;
            }
            else
            {
                RespWriter.WriteError(output, "ERR Unsupported option " + CString(option, int.MaxValue));
                return;
            }
        }

        if ((options & ExpireOptions.Nx) != 0 && options != ExpireOptions.Nx)
        {
            RespWriter.WriteError(output, RespErrors.NxWithOthers);
            return;
        }

        if ((options & (ExpireOptions.Gt | ExpireOptions.Lt)) == (ExpireOptions.Gt | ExpireOptions.Lt))
        {
            RespWriter.WriteError(output, RespErrors.GtAndLt);
            return;
        }

        if (!RespNumber.TryParseInt64(args[2].Span, out long when))
        {
            RespWriter.WriteError(output, RespErrors.NotAnInteger);
            return;
        }

        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                RespWriter.WriteError(output, RespErrors.InvalidExpireTime(name));
                return;
            }

            when *= 1000;
        }

        long now = _store.NowMs;
        long baseTime = relative ? now : 0;
        if (when > long.MaxValue - baseTime)
        {
            RespWriter.WriteError(output, RespErrors.InvalidExpireTime(name));
            return;
        }

        when += baseTime;
        var entry = _store.Find(args[1].Span);
        if (entry is null)
        {
            RespWriter.WriteInteger(output, 0);
            return;
        }

        long current = entry.ExpiresAtMs;
        bool hasExpiry = current != CacheEntry.NoExpiry;
        bool skip = options switch
        {
            ExpireOptions.Nx => hasExpiry,
            _ when (options & ExpireOptions.Xx) != 0 && !hasExpiry => true,
            _ when (options & ExpireOptions.Gt) != 0 => !hasExpiry || when <= current,
            _ when (options & ExpireOptions.Lt) != 0 => hasExpiry && when >= current,
            _ => false,
        };
        if (skip)
        {
            RespWriter.WriteInteger(output, 0);
            return;
        }

        if (when <= now)
        {
            _store.Delete(entry);
        }
        else
        {
            _store.SetExpiry(entry, when);
        }

        RespWriter.WriteInteger(output, 1);
    }

    // -2 missing, -1 no expiry; TTL rounds to the nearest second like Redis ((ms + 500) / 1000).
    private void Ttl(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, bool milliseconds)
    {
        var entry = _store.Find(args[1].Span);
        if (entry is null)
        {
            RespWriter.WriteInteger(output, -2);
            return;
        }

        if (entry.ExpiresAtMs == CacheEntry.NoExpiry)
        {
            RespWriter.WriteInteger(output, -1);
            return;
        }

        long remaining = Math.Max(0, entry.ExpiresAtMs - _store.NowMs);
        RespWriter.WriteInteger(output, milliseconds ? remaining : (remaining + 500) / 1000);
    }

    private void Persist(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        var entry = _store.Find(args[1].Span);
        if (entry is null || entry.ExpiresAtMs == CacheEntry.NoExpiry)
        {
            RespWriter.WriteInteger(output, 0);
            return;
        }

        _store.SetExpiry(entry, CacheEntry.NoExpiry);
        RespWriter.WriteInteger(output, 1);
    }
}
