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
        // One measurement per loop name: servers on the same loop (or on loops that share a name)
        // add up. A disposed loop is no longer reported, as in the EventLoop meter.
        var byName = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (KeyValuePair<StreamServer, object> entry in s_servers)
        {
            Loop loop = entry.Key.Loop;
            if (!loop.IsDisposed)
            {
                byName[loop.Name] = byName.GetValueOrDefault(loop.Name) + entry.Key.ConnectionCount;
            }
        }

        var list = new List<Measurement<long>>(byName.Count);
        foreach ((string name, long count) in byName)
        {
            list.Add(new Measurement<long>(count, new KeyValuePair<string, object?>(LoopMetrics.LoopNameTag, name)));
        }

        return list;
    }
}
