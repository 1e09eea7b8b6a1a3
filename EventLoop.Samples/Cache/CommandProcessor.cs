using System.Buffers;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>
/// Executes parsed requests against a <see cref="CacheStore"/> and writes RESP2 replies.
/// Loop-thread only; shared by all connections of one server.
/// </summary>
/// <remarks>
/// Dispatch looks the command name up as bytes (<see cref="CommandTable"/>), checks Redis's arity,
/// then switches on an enum: no string is created for a known command. Replies and error texts
/// are Redis 7's. Only strings exist, so WRONGTYPE never occurs. Error paths may allocate.
/// </remarks>
public sealed partial class CommandProcessor
{
    private readonly CacheStore _store;
    private long _nextClientId;

    /// <summary>Creates a processor over <paramref name="store"/>.</summary>
    /// <param name="store">The keyspace.</param>
    public CommandProcessor(CacheStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>The keyspace this processor serves.</summary>
    public CacheStore Store => _store;

    /// <summary>The owning server's figures for INFO's Clients and Stats sections; null (the sections are left out) without a server.</summary>
    public IServerStatus? Status { get; init; }

    /// <summary>Creates the state for a new connection, with the next CLIENT ID.</summary>
    /// <returns>A new session.</returns>
    public ClientSession CreateSession() => new(++_nextClientId);

    /// <summary>Executes one request and appends exactly one reply to <paramref name="output"/>.</summary>
    /// <param name="args">The request: command name then arguments; must not be empty.</param>
    /// <param name="output">Where the reply is written.</param>
    /// <param name="session">The calling connection's state; a throwaway session when null.</param>
    /// <returns>Whether the connection should close once the reply is flushed.</returns>
    /// <exception cref="ArgumentException"><paramref name="args"/> is empty.</exception>
    public CommandResult Execute(IReadOnlyList<ReadOnlyMemory<byte>> args, IBufferWriter<byte> output, ClientSession? session = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Count == 0)
        {
            throw new ArgumentException("A request has at least the command name.", nameof(args));
        }

        if (!CommandTable.TryGet(args[0].Span, out var spec))
        {
            RespWriter.WriteError(output, UnknownCommand(args));
            return CommandResult.Continue;
        }

        if (!spec.AcceptsCount(args.Count))
        {
            RespWriter.WriteError(output, RespErrors.WrongArity(spec.Name));
            return CommandResult.Continue;
        }

        switch (spec.Id)
        {
            case CommandId.Ping: Ping(args, output); break;
            case CommandId.Echo: RespWriter.WriteBulkString(output, args[1].Span); break;
            case CommandId.Get: Get(args, output); break;
            case CommandId.Set: Set(args, output); break;
            case CommandId.Del: Del(args, output); break;
            case CommandId.Exists: Exists(args, output); break;
            case CommandId.Incr: IncrBy(args, output, 1); break;
            case CommandId.Decr: IncrBy(args, output, -1); break;
            case CommandId.IncrBy: IncrByCommand(args, output, negate: false); break;
            case CommandId.DecrBy: IncrByCommand(args, output, negate: true); break;
            case CommandId.Expire: Expire(args, output, spec.Name, relative: true, seconds: true); break;
            case CommandId.PExpire: Expire(args, output, spec.Name, relative: true, seconds: false); break;
            case CommandId.ExpireAt: Expire(args, output, spec.Name, relative: false, seconds: true); break;
            case CommandId.PExpireAt: Expire(args, output, spec.Name, relative: false, seconds: false); break;
            case CommandId.Ttl: Ttl(args, output, milliseconds: false); break;
            case CommandId.PTtl: Ttl(args, output, milliseconds: true); break;
            case CommandId.Persist: Persist(args, output); break;
            case CommandId.MGet: MGet(args, output); break;
            case CommandId.MSet: MSet(args, output); break;
            case CommandId.DbSize: RespWriter.WriteInteger(output, _store.Count); break;
            case CommandId.FlushAll:
            case CommandId.FlushDb: Flush(args, output); break;
            case CommandId.Quit:
                RespWriter.WriteOk(output);
                return CommandResult.CloseAfterReply;
            case CommandId.Select: Select(args, output); break;
            case CommandId.Command: Command(args, output); break;
            case CommandId.Config: Config(args, output); break;
            case CommandId.Client: Client(args, output, session ?? CreateSession()); break;
            case CommandId.Hello: Hello(args, output, session ?? CreateSession()); break;
            case CommandId.Info: Info(args, output, _store.Count, _store.VolatileCount); break;
            default:
                // Every id in the table has a case above.
                throw new InvalidOperationException($"Unhandled command {spec.Id}.");
        }

        return CommandResult.Continue;
    }

    // Redis 7: "unknown command '%.128s', with args beginning with: " then "'%.*s' " per argument
    // while the argument text is under 128 chars, each cut to what is left of the 128.
    private static string UnknownCommand(IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        var text = new StringBuilder("ERR unknown command '");
        text.Append(CString(args[0].Span, 128)).Append("', with args beginning with: ");
        int argsLength = 0;
        for (int i = 1; i < args.Count && argsLength < 128; i++)
        {
            string arg = CString(args[i].Span, 128 - argsLength);
            text.Append('\'').Append(arg).Append("' ");
            argsLength += arg.Length + 3;
        }

        return text.ToString();
    }

    // Bytes as Redis's "%.Ns" would print them: up to the first NUL, at most maxLength, as Latin-1
    // so the reply carries the original bytes.
    private static string CString(ReadOnlySpan<byte> bytes, int maxLength)
    {
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            bytes = bytes[..nul];
        }

        return RespWriter.Latin1.GetString(bytes[..Math.Min(bytes.Length, maxLength)]);
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => RespWriter.Latin1.GetString(bytes);
}
