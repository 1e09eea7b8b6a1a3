using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EventLoop.Tests.Samples;

/// <summary>A loopback server that accepts every connection and never sends a byte.</summary>
internal sealed class SilentServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _accepted = [];
    private readonly Task _accepting;

    public SilentServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
        _accepting = Task.Run(AcceptAllAsync);
    }

    public string Port { get; }

    public int Accepted
    {
        get
        {
            lock (_accepted)
            {
                return _accepted.Count;
            }
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _accepting.Wait(TimeSpan.FromSeconds(10));
        lock (_accepted)
        {
            _accepted.ForEach(s => s.Dispose());
        }
    }

    private async Task AcceptAllAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptAsync();
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The listener was closed: the test is over.
        }
    }
}
