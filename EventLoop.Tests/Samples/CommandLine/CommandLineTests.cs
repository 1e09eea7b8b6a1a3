using System.Net;
using System.Net.Sockets;
using EventLoop.Samples;

namespace EventLoop.Tests.Samples.CommandLine;

public sealed class CommandLineTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CommandLineApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData]
    [InlineData("no-such-command")]
    [InlineData("selectors-echo", "--port", "65536")]
    [InlineData("selectors-echo", "--port", "-1")]
    [InlineData("selectors-echo", "--port", "eighty")]
    [InlineData("selectors-echo", "--host", "not-an-address")]
    [InlineData("selectors-echo", "--bogus")]
    [InlineData("sync-vs-async", "--task-seconds", "-1")]
    [InlineData("sync-vs-async", "extra")]
    public void Run_BadArguments_OneErrorLineAndExitCode2(params string[] args)
    {
        (int exit, string output, string error) = Run(args);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, output);
        string[] lines = error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("--help')", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("sync-vs-async", "--help")]
    [InlineData("selectors-echo", "-h")]
    public void Run_Help_PrintsUsageAndExits0(params string[] args)
    {
        (int exit, string output, string error) = Run(args);

        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void Run_RootHelp_ListsTheCommands()
    {
        (_, string output, _) = Run("--help");

        Assert.Contains("sync-vs-async", output, StringComparison.Ordinal);
        Assert.Contains("selectors-echo", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_RootHelp_ShowsNoArgumentAsRequired()
    {
        (_, string output, _) = Run("--help");

        string fetch = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("fetch ", StringComparison.Ordinal));
        Assert.DoesNotContain("<url>", fetch, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_FetchHelp_ShowsTheUrlsAsOptional()
    {
        (int exit, string output, _) = Run("fetch", "--help");

        Assert.Equal(0, exit);
        Assert.Contains("fetch [<url>...]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SyncVsAsync_PrintsBothHalvesAndExits0()
    {
        (int exit, string output, _) = Run("sync-vs-async", "--task-seconds", "0.001");

        Assert.Equal(0, exit);
        Assert.Contains("Task 9 done", output, StringComparison.Ordinal);
        Assert.Contains("Task 0 done", output, StringComparison.Ordinal);
        Assert.Contains("Asynchronous: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SelectorsEchoOnAPortInUse_SaysSoAndExitsNonZero()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupant.Listen();
        int port = ((IPEndPoint)occupant.LocalEndPoint!).Port;

        (int exit, _, string error) = Run("selectors-echo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, exit);
        Assert.Contains($"127.0.0.1:{port} is already in use", error, StringComparison.Ordinal);
    }
}
