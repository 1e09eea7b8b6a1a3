using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace EventLoop.Samples.Commands;

/// <summary>
/// The root's <c>--help</c>: System.CommandLine's help, except that the list of commands shows
/// names only. Its list labels every argument <c>&lt;name&gt;</c> whatever its arity, so
/// <c>fetch [URL...]</c> read as <c>fetch &lt;url&gt;</c>, as if a URL were required; each
/// command's own <c>--help</c> shows its arguments with their arity.
/// </summary>
internal sealed class RootHelpAction(HelpAction inner) : SynchronousCommandLineAction
{
    /// <summary>Help is shown even when the rest of the command line does not parse.</summary>
    public override bool ClearsParseErrors => true;

    /// <summary>Replaces <paramref name="root"/>'s help action with one that lists commands by name.</summary>
    public static void Install(RootCommand root)
    {
        HelpOption option = root.Options.OfType<HelpOption>().Single();
        option.Action = new RootHelpAction((HelpAction)option.Action!);
    }

    public override int Invoke(ParseResult parseResult)
    {
        if (parseResult.CommandResult.Command is not RootCommand root)
        {
            return inner.Invoke(parseResult);
        }

        // The help builder is internal; hiding the arguments while it runs is how to leave them out.
        Argument[] shown = [.. root.Subcommands.SelectMany(c => c.Arguments).Where(a => !a.Hidden)];
        foreach (Argument argument in shown)
        {
            argument.Hidden = true;
        }

        try
        {
            return inner.Invoke(parseResult);
        }
        finally
        {
            foreach (Argument argument in shown)
            {
                argument.Hidden = false;
            }
        }
    }
}
