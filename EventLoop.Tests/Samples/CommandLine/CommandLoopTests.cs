using EventLoop.Samples.Commands;

namespace EventLoop.Tests.Samples.CommandLine;

public sealed class CommandLoopTests
{
    private static string[] Lines(StringWriter writer) => writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Run_MainReturns_ItsExitCode()
    {
        var error = new StringWriter();

        int exit = CommandLoop.Run(error, async loop =>
        {
            await loop.Sleep(TimeSpan.FromMilliseconds(1));
            return 3;
        });

        Assert.Equal(3, exit);
        Assert.Equal(string.Empty, error.ToString());
    }

    [Fact]
    public void Run_MainThrows_OneLineAndExit1()
    {
        var error = new StringWriter();

        int exit = CommandLoop.Run(error, _ => throw new InvalidOperationException("main broke.\nSecond line"));

        Assert.Equal(1, exit);
        Assert.Equal(["error: InvalidOperationException: main broke. Second line"], Lines(error));
    }

    [Fact]
    public void Run_ChildFailureAlsoEndsMain_ReportedOnce()
    {
        var error = new StringWriter();

        int exit = CommandLoop.Run(error, async loop =>
        {
            Greenlet<int> child = loop.Spawn<int>(async () =>
            {
                await loop.Yield();
                throw new InvalidOperationException("child broke");
            });
            return await child;
        });

        Assert.Equal(1, exit);
        Assert.Equal(["error: InvalidOperationException: child broke"], Lines(error));
    }

    [Fact]
    public void Run_TwoDifferentFailures_EachReportedOnce()
    {
        var error = new StringWriter();

        int exit = CommandLoop.Run(error, async loop =>
        {
            Greenlet orphan = loop.Spawn(async () =>
            {
                await loop.Yield();
                throw new IOException("orphan broke");
            });
            await loop.JoinAllAsync([orphan]);
            throw new InvalidOperationException("main broke");
        });

        Assert.Equal(1, exit);
        Assert.Equal(["error: IOException: orphan broke", "error: InvalidOperationException: main broke"], Lines(error));
    }
}
