namespace EventLoop.Tests;

/// <summary>
/// Tests that count the runtime's own events for the whole process (GC handles) run alone: tests
/// running beside them would add their events to the count, and their flood of events can hold
/// up the runtime's delivery to an in-process listener for many seconds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RuntimeEventsCollection
{
    /// <summary>The collection's name, for <c>[Collection]</c>.</summary>
    public const string Name = "Runtime events";
}
