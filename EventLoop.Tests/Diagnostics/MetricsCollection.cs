namespace EventLoop.Tests.Diagnostics;

/// <summary>
/// Tests that listen to the loop's meters run alone: a listener switches measurement on for
/// every loop of the process (the delay probe wakes idle loops), which tests running in
/// parallel must not see.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    /// <summary>The collection's name, for <c>[Collection]</c>.</summary>
    public const string Name = "Metrics listeners";
}
