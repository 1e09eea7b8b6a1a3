namespace EventLoop.Samples.Cache;

/// <summary>Per-connection state that commands can see: the CLIENT ID and CLIENT SETNAME name.</summary>
public sealed class ClientSession
{
    /// <summary>Creates a session.</summary>
    /// <param name="id">The connection's id as reported by CLIENT ID and HELLO.</param>
    public ClientSession(long id)
    {
        Id = id;
    }

    /// <summary>The connection's id.</summary>
    public long Id { get; }

    /// <summary>The name set by CLIENT SETNAME or HELLO SETNAME, or null.</summary>
    public byte[]? Name { get; set; }
}
