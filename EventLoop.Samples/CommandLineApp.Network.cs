using System.CommandLine;
using EventLoop.Samples.Commands;

namespace EventLoop.Samples;

public static partial class CommandLineApp
{
    static partial void AddNetworkCommands(RootCommand root, TextWriter output, TextWriter error)
    {
        root.Subcommands.Add(FetchCommand.Create(output, error));
        root.Subcommands.Add(EchoServerCommand.Create(output, error));
        root.Subcommands.Add(EchoClientCommand.Create(output, error));
        root.Subcommands.Add(CacheServerCommand.Create(output, error));
        root.Subcommands.Add(DemoCommand.Create(output, error));
    }
}
