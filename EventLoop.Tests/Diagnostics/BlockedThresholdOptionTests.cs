using System.Net;
using System.Net.Sockets;
using EventLoop.Samples;

namespace EventLoop.Tests.Diagnostics;

/// <summary>The sample servers' <c>--blocked-threshold &lt;ms&gt;</c> option.</summary>
public sealed class BlockedThresholdOptionTests
{
    [Theory]
    [InlineData("echo-server", "-1")]
    [InlineData("echo-server", "soon")]
    [InlineData("cache-server", "3600001")]
    public void BadValue_OneErrorLineAndExitCode2(string command, string value)
    {
        var error = new StringWriter();
        int exit = CommandLineApp.Run([command, "--blocked-threshold", value], new StringWriter(), error);

        Assert.Equal(2, exit);
        Assert.Single(error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("echo-server")]
    [InlineData("cache-server")]
    public void GoodValue_IsAccepted_TheServerGoesOnToBind(string command)
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupant.Listen();
        string port = ((IPEndPoint)occupant.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var error = new StringWriter();

        int exit = CommandLineApp.Run([command, "--blocked-threshold", "250", "--port", port], new StringWriter(), error);

        Assert.Equal(1, exit); // parsed; the bind then fails on the occupied port
        Assert.Contains("already in use", error.ToString(), StringComparison.Ordinal);
    }
}
