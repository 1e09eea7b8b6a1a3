using System.Globalization;

namespace EventLoop.Tests.Samples.CommandLine;

/// <summary>
/// <c>fetch URL…</c> run as its own process, as the README shows it typed, against loopback peers
/// the test starts: an HTTP server, a port nobody listens on, a name that cannot resolve, a server
/// that resets.
/// </summary>
public sealed class FetchCommandLineTests
{
    private static readonly Dictionary<string, int> s_pages = new()
    {
        ["/"] = 1000,
        ["/a"] = 2500,
        ["/b"] = 70_000,
    };

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void AssertNoStackTrace(string output, string error)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Fetch_OneUrl_PrintsGetAndBytesReceivedAndExits0()
    {
        using var server = LoopbackHttpServer.Serving(s_pages);
        string url = server.Url("/");

        (int exit, string output, string error) = SampleProcess.Run("fetch", url);

        Assert.Equal(0, exit);
        Assert.Equal([$"GET: {url}", $"1000 bytes received from {url}"], Lines(output));
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void Fetch_SeveralUrlsOneByHostName_FetchesThemConcurrently()
    {
        // The server answers nothing until all three requests are open: only concurrent GETs get replies.
        using var server = LoopbackHttpServer.Serving(s_pages, holdUntil: 3);
        string[] urls = [server.Url("/a"), server.Url("/b"), string.Create(CultureInfo.InvariantCulture, $"http://localhost:{server.Port}/")];

        (int exit, string output, string error) = SampleProcess.Run(["fetch", .. urls]);

        Assert.True(server.AllArrivedTogether, output);
        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        string[] lines = Lines(output);
        Assert.Equal(6, lines.Length);
        Assert.Equal(urls.Select(u => $"GET: {u}"), lines.Take(3));
        Assert.Contains($"2500 bytes received from {urls[0]}", lines);
        Assert.Contains($"70000 bytes received from {urls[1]}", lines);
        Assert.Contains($"1000 bytes received from {urls[2]}", lines);
    }

    [Fact]
    public void Fetch_RefusedConnection_OneFailedLineAndExit1()
    {
        string url = $"http://127.0.0.1:{LoopbackPort.Unused()}/";

        (int exit, string output, string error) = SampleProcess.Run("fetch", url);

        Assert.Equal(1, exit);
        Assert.Equal($"GET: {url}", Lines(output)[0]);
        string failed = Assert.Single(Lines(output), l => l.StartsWith("failed: ", StringComparison.Ordinal));
        Assert.StartsWith($"failed: {url}: ", failed, StringComparison.Ordinal);
        Assert.Contains("refused", failed, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, Lines(output).Length);
        Assert.Equal(string.Empty, error);
        AssertNoStackTrace(output, error);
    }

    [Fact]
    public void Fetch_UnknownHost_OneFailedLineAndExit1()
    {
        // .invalid never resolves (RFC 6761), so no name server is asked for a real name.
        const string Url = "http://no-such-host.invalid/";

        (int exit, string output, string error) = SampleProcess.Run("fetch", Url);

        Assert.Equal(1, exit);
        Assert.Equal([$"GET: {Url}", Lines(output)[1]], Lines(output));
        Assert.StartsWith($"failed: {Url}: ", Lines(output)[1], StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
        AssertNoStackTrace(output, error);
    }

    [Fact]
    public void Fetch_ServerResets_OneFailedLineAndExit1()
    {
        using var server = LoopbackHttpServer.Resetting();
        string url = server.Url("/");

        (int exit, string output, string error) = SampleProcess.Run("fetch", url);

        Assert.Equal(1, exit);
        Assert.Equal(2, Lines(output).Length);
        Assert.StartsWith($"failed: {url}: ", Lines(output)[1], StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
        AssertNoStackTrace(output, error);
    }

    [Fact]
    public void Fetch_OneGoodOneMissingOneRefused_ReportsEachAndExits1()
    {
        using var server = LoopbackHttpServer.Serving(s_pages);
        string good = server.Url("/a");
        string missing = server.Url("/missing");
        string refused = $"http://127.0.0.1:{LoopbackPort.Unused()}/";

        (int exit, string output, string error) = SampleProcess.Run("fetch", good, missing, refused);

        Assert.Equal(1, exit);
        string[] lines = Lines(output);
        Assert.Equal(6, lines.Length);
        Assert.Contains($"2500 bytes received from {good}", lines);
        Assert.Single(lines, l => l.StartsWith($"failed: {missing}: ", StringComparison.Ordinal) && l.Contains("404", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith($"failed: {refused}: ", StringComparison.Ordinal));
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData("fetch")]
    [InlineData("echo-server")]
    [InlineData("demo")]
    public void AnyCommand_UnknownPollerBackEnd_OneLineNamingTheValidValuesAndExit2(string command)
    {
        using SampleProcess process = SampleProcess.Start(new Dictionary<string, string?> { ["EVENTLOOP_POLLER"] = "bogus" }, command);

        int exit = process.WaitForExit();

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, process.Output);
        string line = Assert.Single(Lines(process.Error));
        Assert.Contains("EVENTLOOP_POLLER='bogus'", line, StringComparison.Ordinal);
        Assert.Contains("'epoll', 'poll'", line, StringComparison.Ordinal);
    }
}
