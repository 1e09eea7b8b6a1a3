using System.CommandLine;
using EventLoop.Samples.Commands;

namespace EventLoop.Samples;

/// <summary>The samples' command line: one sub-command per demo, <c>demo</c> running them all.</summary>
public static partial class CommandLineApp
{
    /// <summary>Builds the root command; every action writes to <paramref name="output"/> and <paramref name="error"/>.</summary>
    /// <param name="output">Standard output (Console.Out in the program, a StringWriter in tests).</param>
    /// <param name="error">Standard error.</param>
    /// <returns>The root command.</returns>
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("EventLoop samples: the classic gevent/selectors demos, a Redis-protocol cache server, and 'demo', which runs them all on loopback");
        root.Subcommands.Add(SyncVsAsyncCommand.Create(output, error));
        root.Subcommands.Add(SelectorsEchoCommand.Create(output, error));
        AddNetworkCommands(root, output, error);
        RootHelpAction.Install(root);
        return root;
    }

    /// <summary>
    /// Parses and runs. Bad arguments, or an unknown <c>EVENTLOOP_POLLER</c>, print one line to
    /// <paramref name="error"/> and return 2; <c>--help</c> prints help and returns 0; a command that
    /// fails prints one line and returns 1. No stack trace is printed.
    /// </summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <returns>The process exit code.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!PollerVariable.IsValid(Environment.GetEnvironmentVariable(PollerVariable.Name), out string? pollerError))
        {
            error.WriteLine(pollerError);
            return CommandErrors.Usage;
        }

        RootCommand root = Build(output, error);
        ParseResult parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is not { ClearsParseErrors: true })
        {
            // One line instead of System.CommandLine's errors-plus-full-help, so scripts see the cause.
            string messages = string.Join("; ", parseResult.Errors.Select(e => e.Message.TrimEnd('.')));
            error.WriteLine($"error: {messages} (see '{string.Join(' ', CommandPath(parseResult))} --help')");
            return CommandErrors.Usage;
        }

        // Commands run their loops through CommandLoop, which reports failures in one line; this
        // catches what escapes a command that does not, instead of System.CommandLine's stack trace.
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parseResult.Invoke(configuration);
        }
        catch (Exception ex)
        {
            error.WriteLine($"error: {ErrorText.DescribeUnexpected(ex)}");
            return CommandErrors.Failure;
        }
    }

    // Sub-commands that need EventLoop.Net; implemented in CommandLineApp.Network.cs.
    static partial void AddNetworkCommands(RootCommand root, TextWriter output, TextWriter error);

    private static IEnumerable<string> CommandPath(ParseResult parseResult)
    {
        var names = new Stack<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(result.Command is RootCommand ? "EventLoop.Samples" : result.Command.Name);
        }

        return names;
    }
}
