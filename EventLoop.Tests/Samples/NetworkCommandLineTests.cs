using System.Net;
using System.Net.Sockets;
using EventLoop.Samples;

namespace EventLoop.Tests.Samples;

public sealed class NetworkCommandLineTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CommandLineApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A loopback listener on a port the kernel picks, so that a server bound there fails.</summary>
    private static Socket ListenOnAnyPort(out string port)
    {
        var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupant.Listen();
        port = ((IPEndPoint)occupant.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return occupant;
    }

    [Theory]
    [InlineData("echo-server", "--port", "70000")]
    [InlineData("echo-server", "--buffer-size", "0")]
    [InlineData("echo-server", "--buffer-size", "1048577")]
    [InlineData("echo-server", "--buffer-size", "big")]
    [InlineData("echo-client", "--requests", "-5")]
    [InlineData("echo-client", "--connections", "0")]
    [InlineData("echo-client", "--port", "0")]
    [InlineData("echo-client", "--timeout", "0")]
    [InlineData("cache-server", "--max-keys", "-1")]
    [InlineData("fetch", "not a url")]
    [InlineData("fetch", "ftp://example.com/")]
    [InlineData("fetch", "--timeout", "3601")]
    [InlineData("demo", "--requests", "0")]
    public void Run_BadArguments_OneErrorLineAndExitCode2(params string[] args)
    {
        (int exit, _, string error) = Run(args);

        Assert.Equal(2, exit);
        Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("echo-server")]
    [InlineData("cache-server")]
    public void Run_ServerOnAPortInUse_SaysSoAndExitsNonZero(string command)
    {
        using Socket occupant = ListenOnAnyPort(out string port);

        (int exit, _, string error) = Run(command, "--port", port);

        Assert.Equal(1, exit);
        Assert.Contains("already in use", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "--buffer-size: 0 is out of range (1–1048576)")]
    [InlineData("1048577", "--buffer-size: 1048577 is out of range (1–1048576)")]
    public void Run_EchoServerBufferSizeOutOfRange_NamesTheOptionAndRange(string value, string expected)
    {
        (int exit, _, string error) = Run("echo-server", "--buffer-size", value);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("65536")]
    [InlineData("1048576")]
    public void Run_EchoServerBufferSizeInRange_IsAcceptedAndGoesOnToBind(string value)
    {
        using Socket occupant = ListenOnAnyPort(out string port);

        (int exit, _, string error) = Run("echo-server", "--buffer-size", value, "--port", port);

        // Past argument validation (exit code 2): the server tried to bind the occupied port.
        Assert.Equal(1, exit);
        Assert.Contains("already in use", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "--timeout: 0 is out of range (1–3600)")]
    [InlineData("3601", "--timeout: 3601 is out of range (1–3600)")]
    public void Run_EchoClientTimeoutOutOfRange_NamesTheOptionAndRange(string value, string expected)
    {
        (int exit, _, string error) = Run("echo-client", "--port", LoopbackPort.Unused(), "--requests", "1", "--timeout", value);

        Assert.Equal(2, exit);
        Assert.Contains(expected, Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EchoClientAgainstServerThatNeverAnswers_ReportsNoReplyWithinTheTimeoutAndExits1()
    {
        using var silent = new SilentServer();

        // On its own thread so that a client that never gives up fails this test instead of hanging it.
        Task<(int Exit, string Output, string Error)> run = Task.Run(() => Run("echo-client", "--port", silent.Port, "--requests", "5", "--timeout", "1"));

        // Liveness bound only: the client gives up after about 1 s; a loaded machine gets plenty of room.
        Assert.True(run.Wait(TimeSpan.FromSeconds(30)), "echo-client --timeout 1 was still waiting for a silent server after 30 s");
        (int exit, string output, string error) = run.Result;
        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, output);
        string line = Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("5 request(s) failed; first: request ", line, StringComparison.Ordinal);
        Assert.EndsWith(": no reply within 1 s", line, StringComparison.Ordinal);
        Assert.True(silent.Accepted > 0, "the client never connected");
    }

    [Fact]
    public void Run_FetchAgainstServerThatNeverAnswers_FailsTheUrlAfterTheTimeoutAndExits1()
    {
        using var silent = new SilentServer();
        string url = $"http://127.0.0.1:{silent.Port}/slow";

        // On its own thread so that a fetch that never gives up fails this test instead of hanging it
        // (without --timeout it would wait its default 30 s).
        Task<(int Exit, string Output, string Error)> run = Task.Run(() => Run("fetch", url, "--timeout", "1"));

        Assert.True(run.Wait(TimeSpan.FromSeconds(25)), "fetch --timeout 1 was still waiting for a silent server after 25 s");
        (int exit, string output, _) = run.Result;
        Assert.Equal(1, exit);
        Assert.Contains($"failed: {url}", output, StringComparison.Ordinal); // whether or not the connect got through in 1 s
    }

    [Fact]
    public void Run_FetchWithoutUrls_UsesItsOwnServer()
    {
        (int exit, string output, _) = Run("fetch");

        Assert.Equal(0, exit);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("bytes received from http://127.0.0.1:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Run_EchoClientWithoutServer_ReportsErrorsAndExitsNonZero()
    {
        (int exit, string output, string error) = Run("echo-client", "--port", LoopbackPort.Unused(), "--requests", "4", "--quiet");

        Assert.Equal(1, exit);
        Assert.Contains("requests: 4, errors: 4", output, StringComparison.Ordinal);
        Assert.Contains("4 request(s) failed", error, StringComparison.Ordinal);
    }
}
