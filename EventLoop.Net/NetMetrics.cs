using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace EventLoop.Net;

/// <summary>
/// The <c>EventLoop.Net</c> meter (System.Diagnostics.Metrics): connections of the
/// <see cref="StreamServer"/>s of the process, each measurement tagged with its loop's name
/// (<c>eventloop.loop.name</c>, see <see cref="LoopMetrics.LoopNameTag"/>).
/// </summary>
public static class NetMetrics
{
    /// <summary>The meter's name: <c>EventLoop.Net</c>.</summary>
    public const string MeterName = "EventLoop.Net";

    private static readonly ConditionalWeakTable<StreamServer, object> s_servers = new();
    private static readonly object s_registered = new();

    internal static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> Accepted = Meter.CreateCounter<long>(
        "eventloop.net.connections.accepted", "{connection}", "Connections a StreamServer accepted and handed to its handler.");

    internal static readonly Counter<long> Rejected = Meter.CreateCounter<long>(
        "eventloop.net.connections.rejected", "{connection}", "Connections a StreamServer turned away at MaxConnections.");

    internal static readonly ObservableUpDownCounter<long> Active = Meter.CreateObservableUpDownCounter(
        "eventloop.net.connections.active", ObserveActive, "{connection}", "Connections whose handler is running.");

    internal static void Register(StreamServer server) => s_servers.AddOrUpdate(server, s_registered);

    internal static KeyValuePair<string, object?> Tag(Loop loop) => new(LoopMetrics.LoopNameTag, loop.Name);

    private static List<Measurement<long>> ObserveActive()
    {
        // One measurement per loop: servers on the same loop add up.
        var byLoop = new Dictionary<Loop, long>();
        foreach (KeyValuePair<StreamServer, object> entry in s_servers)
        {
            Loop loop = entry.Key.Loop;
            byLoop[loop] = byLoop.GetValueOrDefault(loop) + entry.Key.ConnectionCount;
        }

        var list = new List<Measurement<long>>(byLoop.Count);
        foreach ((Loop loop, long count) in byLoop)
        {
            list.Add(new Measurement<long>(count, Tag(loop)));
        }

        return list;
    }
}
