namespace EventLoop.Samples.Cache;

/// <summary>What INFO's <c>Clients</c> and <c>Stats</c> sections report, supplied by the server that owns a <see cref="CommandProcessor"/>.</summary>
public interface IServerStatus
{
    /// <summary>Open client connections (Redis's <c>connected_clients</c>).</summary>
    int ConnectedClients { get; }

    /// <summary>The client limit in force (Redis's <c>maxclients</c>); 0 when there is none.</summary>
    int MaxClients { get; }

    /// <summary>Connections refused at the client limit (Redis's <c>rejected_connections</c>).</summary>
    long RejectedConnections { get; }

    /// <summary>Keys removed by active expiry (Redis's <c>expired_keys</c> counts lazy expiry too).</summary>
    long ExpiredKeys { get; }
}
