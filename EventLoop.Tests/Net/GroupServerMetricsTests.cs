using System.Diagnostics.Metrics;
using System.Net.Sockets;
using EventLoop.Net;
using EventLoop.Tests.Diagnostics;

namespace EventLoop.Tests.Net;

/// <summary>
/// The network meter over a <see cref="StreamServer"/> on a <see cref="LoopGroup"/> whose endpoint
/// cannot be shared (a Unix socket: one acceptor hands connections to the other loops).
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class GroupServerMetricsTests
{
    [Fact]
    public async Task GroupServer_UnixEndpoint_MetricsCountEachConnectionOnce_AndActiveCoversEveryLoop()
    {
        const int clients = 10;
        string name = $"gsm{Guid.NewGuid():N}"[..10];
        long accepted = 0;
        var active = new Dictionary<string, long>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NetMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? loopName = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == LoopMetrics.LoopNameTag)
                {
                    loopName = tag.Value as string;
                }
            }

            if (loopName is null || !loopName.StartsWith(name, StringComparison.Ordinal))
            {
                return;
            }

            lock (active)
            {
                if (instrument.Name == "eventloop.net.connections.accepted")
                {
                    accepted += value;
                }
                else if (instrument.Name == "eventloop.net.connections.active")
                {
                    active[loopName] = value;
                }
            }
        });
        meters.Start();

        string path = LoopNet.TempSocketPath();
        int served = 0;
        var allServed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var group = new LoopGroup(2, new LoopGroupOptions { Name = name });
        var server = new StreamServer(group, new UnixDomainSocketEndPoint(path), async (c, ct) =>
        {
            if (Interlocked.Increment(ref served) == clients)
            {
                allServed.SetResult();
            }

            await c.Loop.Sleep(Timeout.InfiniteTimeSpan, ct);
        });
        server.Start();
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < clients; i++)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                sockets.Add(socket);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            }

            await allServed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(clients, server.ConnectionCount);
            meters.RecordObservableInstruments();
            lock (active)
            {
                Assert.Equal(clients, accepted);
                Assert.Equal(clients, active.Values.Sum());
            }
        }
        finally
        {
            await server.StopAsync(TimeSpan.Zero).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task GroupServer_UnixEndpoint_RejectionsBeyondTheSlotsInFlight_AreCountedByTheMeterToo()
    {
        // Each loop's share is one connection; every later client is rejected. A loop holds at most
        // 16 rejections in flight (OnRejected here never finishes), and an adopted connection
        // beyond those is closed at once: it is a rejection like the others, for the meter too.
        const int rejections = 2 * 16 + 4;
        string name = $"gsr{Guid.NewGuid():N}"[..10];
        long rejectedMeasured = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NetMetrics.MeterName && instrument.Name == "eventloop.net.connections.rejected")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == LoopMetrics.LoopNameTag && tag.Value is string loopName && loopName.StartsWith(name, StringComparison.Ordinal))
                {
                    Interlocked.Add(ref rejectedMeasured, value);
                }
            }
        });
        meters.Start();

        string path = LoopNet.TempSocketPath();
        await using var group = new LoopGroup(2, new LoopGroupOptions { Name = name });
        var server = new StreamServer(group, new UnixDomainSocketEndPoint(path), (c, ct) => c.Loop.Sleep(Timeout.InfiniteTimeSpan, ct).AsTask())
        {
            MaxConnections = 2,
            OnRejected = c => c.Loop.Sleep(Timeout.InfiniteTimeSpan).AsTask(),
            RejectTimeout = TimeSpan.FromHours(1),
        };
        server.Start();
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < 2 + rejections; i++)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                sockets.Add(socket);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            }

            Assert.True(SpinWait.SpinUntil(() => server.RejectedCount == rejections, TimeSpan.FromSeconds(30)), $"rejected {server.RejectedCount}");
            Assert.Equal(rejections, Interlocked.Read(ref rejectedMeasured));
        }
        finally
        {
            await server.StopAsync(TimeSpan.Zero).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }
}
