using System.Net;
using System.Net.Sockets;

namespace EventLoop.Samples.Commands;

/// <summary>
/// What every long-running server command does once its server exists: bind, announce, wait for
/// Ctrl+C or SIGTERM, stop gracefully; meanwhile SIGQUIT prints the greenlets to standard error.
/// </summary>
internal static class ServerCommand
{
    // Handlers get this long to finish after Ctrl+C before they are killed.
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Starts the server inside the main greenlet and serves until a shutdown signal. A bind
    /// failure is reported as one line and returned as the exit code, not thrown: the loop
    /// would log an escaping exception with its stack trace, and this deserves one line.
    /// </summary>
    public static async Task<int> ServeAsync(
        Loop loop,
        IPEndPoint endpoint,
        TextWriter output,
        TextWriter error,
        string name,
        Action start,
        Func<EndPoint> localEndPoint,
        Func<TimeSpan, Task> stopAsync)
    {
        try
        {
            start();
        }
        catch (SocketException ex)
        {
            return CommandErrors.ReportBindFailure(error, endpoint, ex);
        }

        var stopped = new TaskCompletionSource();
        using var signal = ShutdownSignal.Register(loop, () => stopped.TrySetResult());
        using var dump = DumpSignal.Register(loop, error);
        output.WriteLine($"{name} listening on {localEndPoint()} (Ctrl+C to stop)");
        await stopped.Task;
        await stopAsync(s_stopGrace);
        return 0;
    }
}
