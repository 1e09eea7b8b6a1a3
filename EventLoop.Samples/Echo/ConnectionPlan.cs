namespace EventLoop.Samples.Echo;

/// <summary>
/// How the echo client spreads requests over connections: contiguous shares whose sizes differ
/// by at most one, so every connection finishes at about the same time.
/// </summary>
public static class ConnectionPlan
{
    /// <summary>The first request index and the number of requests connection <paramref name="connection"/> serves.</summary>
    /// <param name="requests">Total requests.</param>
    /// <param name="connections">Total connections; at least one.</param>
    /// <param name="connection">This connection's index in [0, <paramref name="connections"/>).</param>
    /// <returns>The share as (first request, count).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static (int First, int Count) Share(int requests, int connections, int connection)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(connections);
        ArgumentOutOfRangeException.ThrowIfNegative(connection);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(connection, connections);
        int baseCount = requests / connections;
        int remainder = requests % connections;
        int first = (connection * baseCount) + Math.Min(connection, remainder);
        return (first, baseCount + (connection < remainder ? 1 : 0));
    }

    /// <summary>
    /// The default connection count: one per request while the descriptor limit allows, keeping
    /// <paramref name="reserve"/> descriptors for the runtime, the loop and (in one process) the server side.
    /// </summary>
    /// <param name="requests">Total requests.</param>
    /// <param name="openFileLimit">The soft RLIMIT_NOFILE, or null when unknown.</param>
    /// <param name="descriptorsPerConnection">1 for a client alone; 2 when the server runs in the same process.</param>
    /// <param name="reserve">Descriptors left free (64: the runtime's own files, epoll, eventfd, stdio, with margin).</param>
    /// <returns>At least one connection, at most <paramref name="requests"/>.</returns>
    public static int DefaultConnections(int requests, ulong? openFileLimit, int descriptorsPerConnection = 1, int reserve = 64)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(descriptorsPerConnection);
        int cap = Math.Max(requests, 1);
        if (openFileLimit is not ulong limit)
        {
            // 1024 is the traditional soft limit; assume it when the real one cannot be read.
            limit = 1024;
        }

        ulong usable = limit > (ulong)reserve ? (limit - (ulong)reserve) / (ulong)descriptorsPerConnection : 1;
        return (int)Math.Clamp(usable, 1UL, (ulong)cap);
    }
}
