namespace EventLoop.Samples.Demo;

/// <summary>One row of the demo's summary table.</summary>
/// <param name="Part">The part's name (e.g. <c>echo</c>).</param>
/// <param name="Succeeded">Whether the part did everything it checks.</param>
/// <param name="Detail">What it measured, or why it failed.</param>
/// <param name="Elapsed">How long it took.</param>
public sealed record DemoResult(string Part, bool Succeeded, string Detail, TimeSpan Elapsed);
