using System.Net;
using BenchmarkDotNet.Attributes;
using EventLoop.Net;

namespace EventLoop.Benchmarks;

/// <summary>
/// Loopback echo of 64 bytes over one TCP connection, server and client on the same loop.
/// Run: <c>dotnet run -c Release --project EventLoop.Benchmarks -- --filter *NetBenchmarks*</c>.
/// </summary>
[MemoryDiagnoser]
public class NetBenchmarks
{
    private const int RoundTripsPerInvoke = 1000;

    private readonly byte[] _message = new byte[64];
    private readonly byte[] _reply = new byte[64];
    private Loop _loop = null!;
    private StreamListener _listener = null!;
    private StreamConnection _client = null!;
    private Greenlet _server = null!;
    private Func<Task> _clientGreenletBody = null!;

    /// <summary>With the blocked-loop monitor on (<see cref="LoopOptions.BlockedLoopThreshold"/> = 100 ms), or off.</summary>
    [Params(false, true)]
    public bool Watchdog { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop(new LoopOptions { BlockedLoopThreshold = Watchdog ? TimeSpan.FromMilliseconds(100) : null });
        _listener = _loop.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        StreamConnection? client = null;
        _loop.Run(async () => client = await _loop.ConnectAsync(_listener.LocalEndPoint));
        _client = client!;
        _server = _loop.Spawn(async () =>
        {
            using StreamConnection accepted = await _listener.AcceptAsync();
            byte[] buffer = new byte[4096];
            int n;
            while ((n = await accepted.ReceiveAsync(buffer)) > 0)
            {
                await accepted.SendAsync(buffer.AsMemory(0, n));
            }
        });
        _clientGreenletBody = ClientGreenletAsync;
        for (int i = 0; i < 1000; i++)
        {
            RoundTripDriven();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.ShutdownSend();
        _loop.JoinAll([_server], TimeSpan.FromSeconds(5));
        _client.Dispose();
        _listener.Dispose();
        _loop.Dispose();
    }

    /// <summary>
    /// One round trip; the client side is driven from the benchmark thread with RunOnce (the
    /// server is a greenlet), so nothing per invocation is amortised: this shows the true per-op
    /// allocation of a warm receive and send on both sides (expected: 0 B).
    /// </summary>
    [Benchmark(Baseline = true)]
    public int EchoRoundTrip64B() => RoundTripDriven();

    /// <summary>
    /// 1000 round trips by a client greenlet per invocation (server greenlet on the same loop).
    /// The greenlet and its state machine are allocated once per invocation, i.e. per 1000 ops.
    /// </summary>
    [Benchmark(OperationsPerInvoke = RoundTripsPerInvoke)]
    public void EchoRoundTrip64B_ClientGreenlet() => _loop.Run(_clientGreenletBody);

    private int RoundTripDriven()
    {
        _client.SendAsync(_message).GetAwaiter().GetResult();
        int received = 0;
        while (received < _reply.Length)
        {
            ValueTask<int> receive = _client.ReceiveAsync(_reply.AsMemory(received));
            while (!receive.IsCompleted)
            {
                _loop.RunOnce(Timeout.InfiniteTimeSpan);
            }

            received += receive.GetAwaiter().GetResult();
        }

        return received;
    }

    private async Task ClientGreenletAsync()
    {
        for (int i = 0; i < RoundTripsPerInvoke; i++)
        {
            await _client.SendAsync(_message);
            int received = 0;
            while (received < _reply.Length)
            {
                received += await _client.ReceiveAsync(_reply.AsMemory(received));
            }
        }
    }
}
