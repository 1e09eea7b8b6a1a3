using EventLoop.Polling;
using EventLoop.Samples.Commands;

namespace EventLoop.Tests.Samples.CommandLine;

public sealed class PollerVariableTests
{
    public static TheoryData<string?> Values => new(null, "", "  ", "poll", "EPOLL", " Poll ", "bogus", "auto", "Auto", "1", "kqueue", "epoll2", "io_uring", "IoUring");

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("poll")]
    [InlineData("EPOLL")]
    [InlineData(" Poll ")]
    [InlineData("io_uring")]
    public void IsValid_UnsetOrABackEnd_True(string? value)
    {
        Assert.True(PollerVariable.IsValid(value, out string? message));
        Assert.Null(message);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("auto")]
    [InlineData("1")]
    public void IsValid_Unknown_FalseWithOneLineNamingTheValidValues(string value)
    {
        Assert.False(PollerVariable.IsValid(value, out string? message));
        Assert.Equal($"error: EVENTLOOP_POLLER='{value}' is not a poller back end; use one of 'epoll', 'poll', 'io_uring', or leave it unset", message);
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void IsValid_AgreesWithTheLoop(string? value)
    {
        bool loopAccepts;
        try
        {
            PollerFactory.ParseOverride(value);
            loopAccepts = true;
        }
        catch (ArgumentException)
        {
            loopAccepts = false;
        }

        Assert.Equal(loopAccepts, PollerVariable.IsValid(value, out _));
    }
}
