using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace EventLoop.Tests.Samples.CommandLine;

/// <summary>
/// The samples' command line run as its own process, as a user starts it
/// (<c>dotnet EventLoop.Samples.dll args…</c>), with its standard output and error captured line by
/// line. Every wait is bounded; a process still running at <see cref="Dispose"/> is killed.
/// </summary>
internal sealed partial class SampleProcess : IDisposable
{
    private const int Sigterm = 15;

    // Liveness bound only: a run takes well under a second; a loaded CI machine gets plenty of room.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _outputLines = [];
    private readonly StringBuilder _error = new();
    private bool _outputClosed;

    private SampleProcess(IReadOnlyDictionary<string, string?>? environment, string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EventLoop.Samples.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            lock (_gate)
            {
                if (e.Data is null)
                {
                    _outputClosed = true;
                }
                else
                {
                    _outputLines.Add(e.Data);
                }

                Monitor.PulseAll(_gate);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_gate)
                {
                    _error.Append(e.Data).Append('\n');
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything written to standard output so far, lines ending in <c>\n</c>.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Concat(_outputLines.Select(l => l + "\n"));
            }
        }
    }

    /// <summary>Everything written to standard error so far, lines ending in <c>\n</c>.</summary>
    public string Error
    {
        get
        {
            lock (_gate)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts <c>EventLoop.Samples <paramref name="args"/></c> with the test's environment.</summary>
    public static SampleProcess Start(params string[] args) => new(null, args);

    /// <summary>Starts it with some environment variables changed (null removes one).</summary>
    public static SampleProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args) => new(environment, args);

    /// <summary>Runs it to completion: its exit code and both outputs.</summary>
    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using SampleProcess process = Start(args);
        int exit = process.WaitForExit();
        return (exit, process.Output, process.Error);
    }

    /// <summary>Waits for a line of standard output that <paramref name="match"/> accepts and returns it.</summary>
    public string WaitForOutputLine(Func<string, bool> match)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(s_bound.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            for (int seen = 0; ; seen++)
            {
                while (seen == _outputLines.Count)
                {
                    TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (_outputClosed || left <= TimeSpan.Zero)
                    {
                        throw new Xunit.Sdk.XunitException(
                            $"The expected line never came ({(_outputClosed ? "the process closed its output" : "timed out")}).\nstdout:\n{string.Join('\n', _outputLines)}\nstderr:\n{_error}");
                    }

                    Monitor.Wait(_gate, left);
                }

                if (match(_outputLines[seen]))
                {
                    return _outputLines[seen];
                }
            }
        }
    }

    /// <summary>Sends SIGTERM, as a service manager (or Ctrl+C, with SIGINT) would.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, Sigterm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the process to exit and for its output to be read to the end; its exit code.</summary>
    public int WaitForExit()
    {
        if (!_process.WaitForExit(s_bound))
        {
            _process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"The process did not exit within {s_bound.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        // The parameterless overload also waits until the redirected streams reach their end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    // The dotnet CLI tells the processes it starts where it is; a test host started some other way
    // is itself run by the muxer, or the muxer is on PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
        : "dotnet";

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
