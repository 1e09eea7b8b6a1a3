namespace EventLoop.Tests;

/// <summary>
/// Tests that count this process's open descriptors or change its descriptor limit run alone,
/// so no other test opening or closing files in parallel can skew the count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCountingCollection
{
    /// <summary>The collection's name, for <c>[Collection]</c>.</summary>
    public const string Name = "Descriptor counting";
}
