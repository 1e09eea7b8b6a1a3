using System.Globalization;
using System.Text;

namespace EventLoop.Samples.Demo;

/// <summary>Formats the demo's results as one plain-text table.</summary>
public static class DemoSummary
{
    /// <summary>The table: a header, one row per part (part, result, elapsed, detail), and a closing verdict line.</summary>
    /// <param name="results">The parts' results, in run order.</param>
    /// <returns>The table, lines separated by <c>\n</c>, ending with a newline.</returns>
    public static string Format(IReadOnlyList<DemoResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        const string PartHeader = "part";
        int partWidth = Math.Max(PartHeader.Length, results.Count == 0 ? 0 : results.Max(r => r.Part.Length));
        var table = new StringBuilder();
        table.Append(PartHeader.PadRight(partWidth)).Append("  result  elapsed    detail\n");
        table.Append(new string('-', partWidth)).Append("  ------  ---------  ------\n");
        foreach (DemoResult result in results)
        {
            table.Append(result.Part.PadRight(partWidth))
                .Append("  ")
                .Append((result.Succeeded ? "ok" : "FAILED").PadRight(6))
                .Append("  ")
                .Append(string.Create(CultureInfo.InvariantCulture, $"{result.Elapsed.TotalSeconds,7:F2} s"))
                .Append("  ")
                .Append(result.Detail)
                .Append('\n');
        }

        int failed = results.Count(r => !r.Succeeded);
        table.Append(failed == 0 ? $"all {results.Count} parts succeeded\n" : $"{failed} of {results.Count} parts FAILED\n");
        return table.ToString();
    }

    /// <summary>True when there is at least one result and every one succeeded.</summary>
    /// <param name="results">The results.</param>
    /// <returns>The verdict.</returns>
    public static bool AllSucceeded(IReadOnlyList<DemoResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.Count > 0 && results.All(r => r.Succeeded);
    }
}
