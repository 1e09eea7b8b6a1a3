namespace EventLoop.Tests.Samples.CommandLine;

/// <summary>The commands that end by themselves, run as processes with the README's arguments.</summary>
public sealed class ClientCommandLineTests
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void SyncVsAsync_WithTaskSeconds_RunsNineTasksThenTenAndExits0()
    {
        (int exit, string output, string error) = SampleProcess.Run("sync-vs-async", "--task-seconds", "0.01");

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        string[] lines = Lines(output);
        Assert.Equal("Synchronous:", lines[0]);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => $"Task {i} done"), lines[1..10]);
        Assert.StartsWith("Synchronous: ", lines[10], StringComparison.Ordinal);
        Assert.Equal("Asynchronous:", lines[11]);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"Task {i} done"), lines[12..22].Order(StringComparer.Ordinal));
        Assert.StartsWith("Asynchronous: ", lines[22], StringComparison.Ordinal);
        Assert.Equal(23, lines.Length);
    }

    [Fact]
    public void EchoClient_NoServerOnLocalhost_OneErrorLineAndExit1()
    {
        (int exit, string output, string error) = SampleProcess.Run("echo-client", "--host", "localhost", "--port", LoopbackPort.Unused(), "--requests", "3", "--quiet");

        Assert.Equal(1, exit);
        Assert.Contains("requests: 3, errors: 3", output, StringComparison.Ordinal);
        string line = Assert.Single(Lines(error));
        Assert.StartsWith("3 request(s) failed; first: ", line, StringComparison.Ordinal);
        Assert.Contains("refused", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EchoClient_ServerThatNeverAnswers_NoReplyWithinTheTimeoutAndExit1()
    {
        using var silent = new SilentServer();

        // SampleProcess bounds the wait (liveness only); the client gives up after about 1 s.
        (int exit, string output, string error) = SampleProcess.Run("echo-client", "--port", silent.Port, "--requests", "5", "--timeout", "1", "--quiet");

        Assert.Equal(1, exit);
        Assert.Contains("requests: 5, errors: 5", output, StringComparison.Ordinal);
        string line = Assert.Single(Lines(error));
        Assert.StartsWith("5 request(s) failed; first: request ", line, StringComparison.Ordinal);
        Assert.EndsWith(": no reply within 1 s", line, StringComparison.Ordinal);
    }

    [Fact]
    public void RootHelp_ListsEveryCommandAndExits0()
    {
        (int exit, string output, string error) = SampleProcess.Run("--help");

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        foreach (string command in new[] { "sync-vs-async", "selectors-echo", "fetch", "echo-server", "echo-client", "cache-server", "demo" })
        {
            Assert.Contains(Lines(output), l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }
}
