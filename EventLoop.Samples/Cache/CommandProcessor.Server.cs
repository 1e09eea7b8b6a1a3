using System.Buffers;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <content>
/// Connection and server commands: PING, FLUSHALL/FLUSHDB, SELECT, and the start-up chatter of
/// redis-cli and redis-benchmark (COMMAND, CONFIG GET, CLIENT, HELLO, INFO).
/// </content>
public sealed partial class CommandProcessor
{
    /// <summary>The Redis version this server claims in INFO and HELLO; clients gate features on it.</summary>
    public const string ReportedRedisVersion = "7.0.0";

    private void Ping(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (args.Count > 2)
        {
            RespWriter.WriteError(output, RespErrors.WrongArity("ping"));
        }
        else if (args.Count == 2)
        {
            RespWriter.WriteBulkString(output, args[1].Span);
        }
        else
        {
            RespWriter.WriteRaw(output, "+PONG\r\n"u8);
        }
    }

    // FLUSHALL / FLUSHDB [ASYNC|SYNC]: there is one database, so both clear everything.
    private void Flush(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (args.Count > 2 || (args.Count == 2 && !Ascii.EqualsIgnoreCase(args[1].Span, "sync"u8) && !Ascii.EqualsIgnoreCase(args[1].Span, "async"u8)))
        {
            RespWriter.WriteError(output, RespErrors.SyntaxError);
            return;
        }

        _store.Clear();
        RespWriter.WriteOk(output);
    }

    private static void Select(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (!RespNumber.TryParseInt64(args[1].Span, out long index) || index is < int.MinValue or > int.MaxValue)
        {
            RespWriter.WriteError(output, RespErrors.NotAnInteger);
        }
        else if (index != 0)
        {
            RespWriter.WriteError(output, RespErrors.DbIndexOutOfRange);
        }
        else
        {
            RespWriter.WriteOk(output);
        }
    }

    // redis-cli sends COMMAND DOCS at start-up for hints; an empty array means "no docs", which it
    // handles. COMMAND itself would list every command's metadata; empty is enough for our clients.
    private static void Command(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        if (args.Count == 1)
        {
            RespWriter.WriteRaw(output, "*0\r\n"u8);
            return;
        }

        var sub = args[1].Span;
        if (Ascii.EqualsIgnoreCase(sub, "docs"u8) || Ascii.EqualsIgnoreCase(sub, "info"u8) || Ascii.EqualsIgnoreCase(sub, "list"u8))
        {
            RespWriter.WriteRaw(output, "*0\r\n"u8);
        }
        else if (Ascii.EqualsIgnoreCase(sub, "count"u8))
        {
            if (args.Count != 2)
            {
                RespWriter.WriteError(output, RespErrors.WrongArity("command|count"));
                return;
            }

            RespWriter.WriteInteger(output, CommandTable.Count);
        }
        else
        {
            RespWriter.WriteError(output, UnknownSubcommand(args));
        }
    }

    // redis-benchmark reads CONFIG GET save and CONFIG GET appendonly; it wants a 2-element array.
    private static void Config(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output)
    {
        var sub = args[1].Span;
        if (Ascii.EqualsIgnoreCase(sub, "get"u8))
        {
            if (args.Count < 3)
            {
                RespWriter.WriteError(output, RespErrors.WrongArity("config|get"));
                return;
            }

            // Each parameter is reported once even if several patterns match it (Redis 7).
            bool save = false;
            bool appendOnly = false;
            for (int i = 2; i < args.Count; i++)
            {
                save |= GlobMatcher.IsMatch(args[i].Span, "save"u8);
                appendOnly |= GlobMatcher.IsMatch(args[i].Span, "appendonly"u8);
            }

            RespWriter.WriteArrayHeader(output, (save ? 2 : 0) + (appendOnly ? 2 : 0));
            if (save)
            {
                RespWriter.WriteBulkString(output, "save"u8);
                RespWriter.WriteBulkString(output, ReadOnlySpan<byte>.Empty);
            }

            if (appendOnly)
            {
                RespWriter.WriteBulkString(output, "appendonly"u8);
                RespWriter.WriteBulkString(output, "no"u8);
            }
        }
        else if (Ascii.EqualsIgnoreCase(sub, "resetstat"u8) && args.Count == 2)
        {
            RespWriter.WriteOk(output);
        }
        else
        {
            RespWriter.WriteError(output, UnknownSubcommand(args));
        }
    }

    private static void Client(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, ClientSession session)
    {
        var sub = args[1].Span;
        if (Ascii.EqualsIgnoreCase(sub, "setname"u8))
        {
            if (args.Count != 3)
            {
                RespWriter.WriteError(output, RespErrors.WrongArity("client|setname"));
            }
            else if (TrySetName(session, args[2].Span, output))
            {
                RespWriter.WriteOk(output);
            }
        }
        else if (Ascii.EqualsIgnoreCase(sub, "getname"u8))
        {
            if (args.Count != 2)
            {
                RespWriter.WriteError(output, RespErrors.WrongArity("client|getname"));
            }
            else if (session.Name is null)
            {
                RespWriter.WriteNullBulkString(output);
            }
            else
            {
                RespWriter.WriteBulkString(output, session.Name);
            }
        }
        else if (Ascii.EqualsIgnoreCase(sub, "setinfo"u8))
        {
            // redis-cli 7.2+ and newer client libraries send lib-name and lib-ver; accept and ignore.
            if (args.Count != 4)
            {
                RespWriter.WriteError(output, RespErrors.WrongArity("client|setinfo"));
            }
            else if (!Ascii.EqualsIgnoreCase(args[2].Span, "lib-name"u8) && !Ascii.EqualsIgnoreCase(args[2].Span, "lib-ver"u8))
            {
                RespWriter.WriteError(output, $"ERR Unrecognized option '{CString(args[2].Span, int.MaxValue)}'");
            }
            else if (!IsPrintableName(args[3].Span))
            {
                RespWriter.WriteError(output, $"ERR {CString(args[2].Span, int.MaxValue)} cannot contain spaces, newlines or special characters.");
            }
            else
            {
                RespWriter.WriteOk(output);
            }
        }
        else if (Ascii.EqualsIgnoreCase(sub, "id"u8) && args.Count == 2)
        {
            RespWriter.WriteInteger(output, session.Id);
        }
        else
        {
            RespWriter.WriteError(output, UnknownSubcommand(args));
        }
    }

    // HELLO [protover [AUTH user pass] [SETNAME name]]. The server speaks only RESP2: HELLO and
    // HELLO 2 get Redis 7's RESP2 reply (the map flattened to an array); 3 (or anything else) gets
    // NOPROTO, which makes RESP3-capable clients fall back to RESP2. AUTH is accepted and ignored
    // because the only user is the password-less default one.
    private static void Hello(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, ClientSession session)
    {
        int next = 1;
        if (args.Count >= 2)
        {
            if (!RespNumber.TryParseInt64(args[1].Span, out long version))
            {
                RespWriter.WriteError(output, RespErrors.ProtocolVersionNotInteger);
                return;
            }

            if (version != 2)
            {
                RespWriter.WriteError(output, RespErrors.NoProto);
                return;
            }

            next = 2;
        }

        byte[]? newName = null;
        bool setName = false;
        for (int j = next; j < args.Count; j++)
        {
            int moreArgs = args.Count - 1 - j;
            var option = args[j].Span;
            if (Ascii.EqualsIgnoreCase(option, "auth"u8) && moreArgs >= 2)
            {
                j += 2;
            }
            else if (Ascii.EqualsIgnoreCase(option, "setname"u8) && moreArgs >= 1)
            {
                j++;
                if (!IsPrintableName(args[j].Span))
                {
                    RespWriter.WriteError(output, RespErrors.BadClientName);
                    return;
                }

                setName = true;
                newName = args[j].Length == 0 ? null : args[j].ToArray();
            }
            else
            {
                RespWriter.WriteError(output, $"ERR Syntax error in HELLO option '{CString(option, int.MaxValue)}'");
                return;
            }
        }

        if (setName)
        {
            session.Name = newName;
        }

        RespWriter.WriteArrayHeader(output, 14);
        RespWriter.WriteBulkString(output, "server"u8);
        RespWriter.WriteBulkString(output, "redis"u8);
        RespWriter.WriteBulkString(output, "version"u8);
        RespWriter.WriteBulkString(output, ReportedRedisVersion);
        RespWriter.WriteBulkString(output, "proto"u8);
        RespWriter.WriteInteger(output, 2);
        RespWriter.WriteBulkString(output, "id"u8);
        RespWriter.WriteInteger(output, session.Id);
        RespWriter.WriteBulkString(output, "mode"u8);
        RespWriter.WriteBulkString(output, "standalone"u8);
        RespWriter.WriteBulkString(output, "role"u8);
        RespWriter.WriteBulkString(output, "master"u8);
        RespWriter.WriteBulkString(output, "modules"u8);
        RespWriter.WriteRaw(output, "*0\r\n"u8);
    }

    /// <summary>
    /// INFO [section…]: "server", "clients", "stats" and "keyspace" exist; none, "default", "all" and
    /// "everything" give them all; an unknown section gives an empty bulk string, as in Redis. The
    /// keyspace section reports <paramref name="keys"/> and <paramref name="expires"/>: this
    /// processor's store, or the sum over every shard of a sharded server.
    /// </summary>
    /// <param name="args">The request, INFO first; it has passed the arity check.</param>
    /// <param name="output">Where the reply is written.</param>
    /// <param name="keys">Keys held.</param>
    /// <param name="expires">Keys with a time to live.</param>
    internal void Info(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, long keys, long expires)
    {
        bool server = args.Count == 1;
        bool clients = args.Count == 1;
        bool stats = args.Count == 1;
        bool keyspace = args.Count == 1;
        for (int i = 1; i < args.Count; i++)
        {
            var section = args[i].Span;
            bool all = Ascii.EqualsIgnoreCase(section, "all"u8) || Ascii.EqualsIgnoreCase(section, "everything"u8) || Ascii.EqualsIgnoreCase(section, "default"u8);
            server |= all || Ascii.EqualsIgnoreCase(section, "server"u8);
            clients |= all || Ascii.EqualsIgnoreCase(section, "clients"u8);
            stats |= all || Ascii.EqualsIgnoreCase(section, "stats"u8);
            keyspace |= all || Ascii.EqualsIgnoreCase(section, "keyspace"u8);
        }

        var text = new StringBuilder();
        if (server)
        {
            text.Append("# Server\r\n")
                .Append("redis_version:").Append(ReportedRedisVersion).Append("\r\n")
                .Append("redis_mode:standalone\r\n")
                .Append("os:").Append(Environment.OSVersion.Platform).Append("\r\n")
                .Append("arch_bits:").Append(IntPtr.Size * 8).Append("\r\n")
                .Append("process_id:").Append(Environment.ProcessId).Append("\r\n");
        }

        if (clients && Status is { } clientStatus)
        {
            AppendSectionBreak(text);
            text.Append("# Clients\r\n")
                .Append("connected_clients:").Append(clientStatus.ConnectedClients).Append("\r\n")
                .Append("maxclients:").Append(clientStatus.MaxClients).Append("\r\n");
        }

        if (stats && Status is { } statStatus)
        {
            AppendSectionBreak(text);
            text.Append("# Stats\r\n")
                .Append("rejected_connections:").Append(statStatus.RejectedConnections).Append("\r\n")
                .Append("expired_keys:").Append(statStatus.ExpiredKeys).Append("\r\n");
        }

        if (keyspace)
        {
            AppendSectionBreak(text);

            text.Append("# Keyspace\r\n");
            if (keys > 0)
            {
                text.Append("db0:keys=").Append(keys)
                    .Append(",expires=").Append(expires)
                    .Append(",avg_ttl=0\r\n");
            }
        }

        RespWriter.WriteBulkString(output, text.ToString());
    }

    private static void AppendSectionBreak(StringBuilder text)
    {
        if (text.Length > 0)
        {
            text.Append("\r\n");
        }
    }

    private static bool TrySetName(ClientSession session, ReadOnlySpan<byte> name, IBufferWriter<byte> output)
    {
        if (!IsPrintableName(name))
        {
            RespWriter.WriteError(output, RespErrors.BadClientName);
            return false;
        }

        // An empty name clears it, as in Redis.
        session.Name = name.IsEmpty ? null : name.ToArray();
        return true;
    }

    // Redis allows '!'..'~' in client names and lib info: no spaces, newlines or control bytes.
    private static bool IsPrintableName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b < (byte)'!' || b > (byte)'~')
            {
                return false;
            }
        }

        return true;
    }

    // Redis 7: "unknown subcommand '%.128s'. Try %s HELP." with the command name upper-cased as sent.
    private static string UnknownSubcommand(IReadOnlyList<ReadOnlyMemory<byte>> args) =>
        $"ERR unknown subcommand '{CString(args[1].Span, 128)}'. Try {Latin1(args[0].Span).ToUpperInvariant()} HELP.";
}
