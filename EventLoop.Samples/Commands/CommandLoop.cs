namespace EventLoop.Samples.Commands;

/// <summary>
/// Runs a command's main coroutine on a new loop so that any failure reaches the user as one line
/// on standard error, once. The loop reports a failed greenlet when it ends and <see cref="Loop.Run{T}(Func{Task{T}})"/>
/// rethrows main's exception; both are the same exception object when a child's failure is what
/// ended main, so the exceptions already printed are remembered and not printed again.
/// </summary>
internal static class CommandLoop
{
    /// <summary>Runs <paramref name="main"/> until it returns its exit code; a failure prints one line and gives <see cref="CommandErrors.Failure"/>.</summary>
    public static int Run(TextWriter error, Func<Loop, Task<int>> main) => Run(error, main, null, 0);

    /// <summary>
    /// Like <see cref="Run(TextWriter, Func{Loop, Task{int}})"/> on a loop named <paramref name="name"/>, with the
    /// blocked-loop watchdog when <paramref name="blockedThresholdMs"/> is positive and <paramref name="spinMicroseconds"/>
    /// of <see cref="LoopOptions.SpinBeforePoll"/>.
    /// </summary>
    public static int Run(TextWriter error, Func<Loop, Task<int>> main, string? name, int blockedThresholdMs, int spinMicroseconds = 0)
    {
        var reported = new HashSet<Exception>(ReferenceEqualityComparer.Instance);
        void Report(Exception ex)
        {
            if (reported.Add(ex))
            {
                error.WriteLine($"error: {ErrorText.DescribeUnexpected(ex)}");
            }
        }

        using var loop = new Loop(name is null
            ? new LoopOptions { UnhandledException = Report }
            : CommonOptions.ServerLoopOptions(name, blockedThresholdMs, Report, spinMicroseconds));
        try
        {
            return loop.Run(() => main(loop));
        }
        catch (Exception ex)
        {
            Report(ex);
            return CommandErrors.Failure;
        }
    }
}
