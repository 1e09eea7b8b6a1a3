using System.Net;
using System.Net.Sockets;

namespace EventLoop.Samples.Commands;

/// <summary>One-line reports for the failures a user can fix, and the exit codes that go with them.</summary>
internal static class CommandErrors
{
    /// <summary>Exit code for a run that failed (a port in use, a demo part that failed).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad command-line arguments (the sysexits/getopt convention).</summary>
    public const int Usage = 2;

    public static int ReportBindFailure(TextWriter error, EndPoint endpoint, SocketException ex)
    {
        string message = ex.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => $"error: {endpoint} is already in use (is another server listening there? pick another --port)",
            SocketError.AddressNotAvailable => $"error: cannot bind {endpoint}: the address is not on this machine (check --host)",
            SocketError.AccessDenied => $"error: cannot bind {endpoint}: permission denied (ports below 1024 need privileges)",
            _ => $"error: cannot listen on {endpoint}: {ex.Message} ({ex.SocketErrorCode})",
        };
        error.WriteLine(message);
        return Failure;
    }
}
