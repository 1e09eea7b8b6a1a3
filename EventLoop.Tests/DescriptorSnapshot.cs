namespace EventLoop.Tests;

/// <summary>
/// The process's open descriptors at one moment, each with what it points at (<c>socket:[…]</c>,
/// <c>anon_inode:[eventpoll]</c>, a path). Comparing two snapshots names what a test left open,
/// and ignores descriptors that something else (a finalizer, the runtime) closed meanwhile.
/// Tests that use it belong to <see cref="DescriptorCountingCollection"/>.
/// </summary>
internal sealed class DescriptorSnapshot
{
    private readonly Dictionary<int, string> _open;

    private DescriptorSnapshot(Dictionary<int, string> open) => _open = open;

    /// <summary>How many descriptors were open.</summary>
    public int Count => _open.Count;

    /// <summary>Collects garbage first, so descriptors of unreachable objects are closed before counting.</summary>
    public static DescriptorSnapshot Take()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var open = new Dictionary<int, string>();
        foreach (string path in Directory.GetFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(path), out int fd))
            {
                continue;
            }

            string target;
            try
            {
                target = new FileInfo(path).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                continue; // closed between listing and reading: the directory's own descriptor
            }

            open[fd] = target;
        }

        return new DescriptorSnapshot(open);
    }

    /// <summary>Descriptors open in <paramref name="later"/> that were not open, with the same target, here.</summary>
    public IReadOnlyList<string> OpenedSince(DescriptorSnapshot later) =>
        later._open
            .Where(kv => !_open.TryGetValue(kv.Key, out string? before) || before != kv.Value)
            .Where(kv => !IsRuntimeOwned(kv.Value))
            .OrderBy(kv => kv.Key)
            .Select(kv => $"{kv.Key} -> {kv.Value}")
            .ToList();

    // The runtime opens assemblies, symbol files and native libraries lazily, on first use, and keeps
    // them open; listing /proc/self/fd opens the directory itself. None of it is a test's leak.
    private static bool IsRuntimeOwned(string target) =>
        target.StartsWith("/proc/", StringComparison.Ordinal) ||
        target.EndsWith(".dll", StringComparison.Ordinal) ||
        target.EndsWith(".pdb", StringComparison.Ordinal) ||
        target.EndsWith(".so", StringComparison.Ordinal) ||
        target.Contains(".so.", StringComparison.Ordinal);

    /// <summary>Asserts that exactly <paramref name="expected"/> descriptors opened since this snapshot are still open.</summary>
    public void AssertOpenedSince(int expected = 0)
    {
        IReadOnlyList<string> opened = OpenedSince(Take());
        Assert.True(
            opened.Count == expected,
            $"expected {expected} descriptor(s) still open, found {opened.Count}: {string.Join(", ", opened)}");
    }
}
