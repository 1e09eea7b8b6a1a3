using System.Net;
using BenchmarkDotNet.Attributes;
using EventLoop.Net;

namespace EventLoop.Benchmarks;

/// <summary>
/// A <see cref="StreamServer"/> connection from accept to close: <see cref="Clients"/> clients
/// connect at once, the handler writes one byte and returns, each client reads to end of stream.
/// Per connection (client side included). Run:
/// <c>dotnet run -c Release --project EventLoop.Benchmarks -- --filter *StreamServerBenchmarks* --memory</c>.
/// </summary>
[MemoryDiagnoser]
public class StreamServerBenchmarks
{
    private const int Clients = 100;

    private static readonly byte[] s_hello = [(byte)'+'];
    private readonly Greenlet[] _clients = new Greenlet[Clients];
    private Loop _loop = null!;
    private StreamServer _server = null!;
    private EndPoint _endPoint = null!;
    private Func<Task> _clientBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new Loop();
        _server = new StreamServer(_loop, new IPEndPoint(IPAddress.Loopback, 0), static (c, ct) => c.SendAsync(s_hello, ct).AsTask()) { Backlog = 4096 };
        _server.Start();
        _endPoint = _server.LocalEndPoint;
        _clientBody = ClientAsync;
        ConnectServeClose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Run(() => _server.StopAsync(TimeSpan.Zero));
        _loop.Dispose();
    }

    /// <summary>Connect, be served one byte, see the server close.</summary>
    [Benchmark(OperationsPerInvoke = Clients)]
    public void ConnectServeClose()
    {
        for (int i = 0; i < Clients; i++)
        {
            _clients[i] = _loop.Spawn(_clientBody);
        }

        _loop.JoinAll(_clients, raiseError: true);
    }

    private async Task ClientAsync()
    {
        using StreamConnection client = await _loop.ConnectAsync(_endPoint);
        byte[] buffer = new byte[4];
        while (await client.ReceiveAsync(buffer) > 0)
        {
        }
    }
}
