using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>Identifies a supported command after name lookup.</summary>
internal enum CommandId
{
    Ping, Echo, Get, Set, Del, Exists, Incr, Decr, IncrBy, DecrBy,
    Expire, PExpire, ExpireAt, PExpireAt, Ttl, PTtl, Persist, MGet, MSet,
    DbSize, FlushAll, FlushDb, Quit, Select, Command, Config, Client, Hello, Info,
}

/// <summary>A command's id, canonical lowercase name (used in error texts) and Redis arity.</summary>
/// <param name="Id">The command.</param>
/// <param name="Name">Lowercase name as Redis prints it in "wrong number of arguments" errors.</param>
/// <param name="Arity">Redis convention: N &gt; 0 means exactly N arguments including the name, -N means at least N.</param>
internal readonly record struct CommandSpec(CommandId Id, string Name, int Arity)
{
    /// <summary>Whether <paramref name="argumentCount"/> (including the name) satisfies <see cref="Arity"/>.</summary>
    public bool AcceptsCount(int argumentCount) => Arity > 0 ? argumentCount == Arity : argumentCount >= -Arity;
}

/// <summary>
/// Case-insensitive command name lookup on raw bytes, so dispatch never decodes the name to a string.
/// </summary>
internal static class CommandTable
{
    private static readonly Dictionary<byte[], CommandSpec> s_commands = Build();
    private static readonly Dictionary<byte[], CommandSpec>.AlternateLookup<ReadOnlySpan<byte>> s_lookup =
        s_commands.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Number of supported commands (COMMAND COUNT).</summary>
    public static int Count => s_commands.Count;

    /// <summary>Looks up a command by name, ignoring ASCII case.</summary>
    public static bool TryGet(ReadOnlySpan<byte> name, out CommandSpec spec) => s_lookup.TryGetValue(name, out spec);

    private static Dictionary<byte[], CommandSpec> Build()
    {
        // Arities are Redis 7's.
        CommandSpec[] specs =
        [
            new(CommandId.Ping, "ping", -1),
            new(CommandId.Echo, "echo", 2),
            new(CommandId.Get, "get", 2),
            new(CommandId.Set, "set", -3),
            new(CommandId.Del, "del", -2),
            new(CommandId.Exists, "exists", -2),
            new(CommandId.Incr, "incr", 2),
            new(CommandId.Decr, "decr", 2),
            new(CommandId.IncrBy, "incrby", 3),
            new(CommandId.DecrBy, "decrby", 3),
            new(CommandId.Expire, "expire", -3),
            new(CommandId.PExpire, "pexpire", -3),
            new(CommandId.ExpireAt, "expireat", -3),
            new(CommandId.PExpireAt, "pexpireat", -3),
            new(CommandId.Ttl, "ttl", 2),
            new(CommandId.PTtl, "pttl", 2),
            new(CommandId.Persist, "persist", 2),
            new(CommandId.MGet, "mget", -2),
            new(CommandId.MSet, "mset", -3),
            new(CommandId.DbSize, "dbsize", 1),
            new(CommandId.FlushAll, "flushall", -1),
            new(CommandId.FlushDb, "flushdb", -1),
            new(CommandId.Quit, "quit", -1),
            new(CommandId.Select, "select", 2),
            new(CommandId.Command, "command", -1),
            new(CommandId.Config, "config", -2),
            new(CommandId.Client, "client", -2),
            new(CommandId.Hello, "hello", -1),
            new(CommandId.Info, "info", -1),
        ];

        var table = new Dictionary<byte[], CommandSpec>(specs.Length, AsciiIgnoreCaseComparer.Instance);
        foreach (var spec in specs)
        {
            table.Add(Encoding.ASCII.GetBytes(spec.Name), spec);
        }

        return table;
    }
}
