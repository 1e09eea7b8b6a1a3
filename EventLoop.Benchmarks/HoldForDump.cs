namespace EventLoop.Benchmarks;

/// <summary>
/// Holds a probe's steady state while a heap dump is taken from outside (<c>bench/memory-parts.sh</c>):
/// <c>-- hold sleepers [count]</c> (the <c>sleepers</c> probe's greenlets, all asleep) or
/// <c>-- hold connections [count]</c> (the <c>held</c> probe's connections, every handler waiting).
/// Prints <c>baseline</c> before the units exist (the connections' clients are connected by then)
/// and <c>ready</c> once the state is reached, and each time waits for a line (or the end) on
/// standard input, so a dump taken at each point tells the units from everything else.
/// </summary>
public static class HoldForDump
{
    /// <summary>Holds <paramref name="what"/> with <paramref name="count"/> units.</summary>
    /// <param name="what"><c>sleepers</c> or <c>connections</c>.</param>
    /// <param name="count">Greenlets or connections.</param>
    public static void Run(string what, int count)
    {
        switch (what)
        {
            case "sleepers":
                WaitForRelease("baseline");
                ManySleepersBenchmark.HoldAsleep(count, static () => WaitForRelease("ready"));
                break;
            case "connections":
                HeldConnectionsProbe.Hold(count, static () => WaitForRelease("baseline"), static () => WaitForRelease("ready"));
                break;
            default:
                throw new ArgumentException($"hold: '{what}' is not sleepers or connections", nameof(what));
        }
    }

    private static void WaitForRelease(string point)
    {
        Console.WriteLine(point);
        Console.Out.Flush();
        _ = Console.In.ReadLine();
    }
}
