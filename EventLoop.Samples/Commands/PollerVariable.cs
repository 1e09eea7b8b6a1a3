namespace EventLoop.Samples.Commands;

/// <summary>
/// Checks <c>EVENTLOOP_POLLER</c> before any command runs: every loop reads it when it is created,
/// and an unknown value would otherwise surface as an exception from the first <c>new Loop()</c>.
/// </summary>
internal static class PollerVariable
{
    /// <summary>The variable's name, as Core reads it.</summary>
    public const string Name = "EVENTLOOP_POLLER";

    /// <summary>
    /// The back ends the variable may name, from <see cref="PollerKind"/> (Auto is what leaving it
    /// unset means), in lower case as the README writes them.
    /// </summary>
    public static IReadOnlyList<string> ValidValues { get; } =
        [.. Enum.GetValues<PollerKind>().Where(k => k != PollerKind.Auto).Select(k => k == PollerKind.IoUring ? "io_uring" : k.ToString().ToLowerInvariant())];

    /// <summary>
    /// True when <paramref name="value"/> (the variable's value, null when unset) is one Core accepts:
    /// unset, blank, or a back-end name in any case with surrounding spaces.
    /// </summary>
    public static bool IsValid(string? value, out string? message)
    {
        message = null;
        if (string.IsNullOrWhiteSpace(value) || ValidValues.Contains(value.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        message = $"error: {Name}='{value}' is not a poller back end; use one of {string.Join(", ", ValidValues.Select(v => $"'{v}'"))}, or leave it unset";
        return false;
    }
}
