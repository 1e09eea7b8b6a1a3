using System.Globalization;
using System.Text;

namespace EventLoop;

/// <summary>Formatting for greenlet dumps and wait descriptions.</summary>
internal static class GreenletDump
{
    /// <summary>Writes <paramref name="greenlets"/> as a tree by parent, one line each, children indented under their parent.</summary>
    public static void Write(TextWriter writer, Loop loop, IReadOnlyList<GreenletInfo> greenlets)
    {
        writer.WriteLine(OneLine($"Greenlets of loop '{loop.Name}' ({greenlets.Count} live):"));
        var ids = new HashSet<long>();
        var children = new Dictionary<long, List<GreenletInfo>>();
        foreach (GreenletInfo info in greenlets)
        {
            ids.Add(info.Id);
        }

        var roots = new List<GreenletInfo>();
        foreach (GreenletInfo info in greenlets)
        {
            if (info.ParentId is { } parent && ids.Contains(parent))
            {
                if (!children.TryGetValue(parent, out List<GreenletInfo>? list))
                {
                    children[parent] = list = [];
                }

                list.Add(info);
            }
            else
            {
                roots.Add(info);
            }
        }

        roots.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        foreach (List<GreenletInfo> list in children.Values)
        {
            list.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        }

        // Iterative depth-first walk: a deep chain of spawns must not overflow the stack.
        var stack = new Stack<(GreenletInfo Info, int Depth)>();
        for (int i = roots.Count - 1; i >= 0; i--)
        {
            stack.Push((roots[i], 0));
        }

        var line = new StringBuilder();
        while (stack.Count > 0)
        {
            (GreenletInfo info, int depth) = stack.Pop();
            line.Clear();
            line.Append(' ', 2 + (depth * 2));
            AppendOneLine(line, info.ToString());
            if (depth == 0 && info.ParentId is { } gone)
            {
                line.Append(CultureInfo.InvariantCulture, $" (parent #{gone} finished)");
            }

            writer.WriteLine(line.ToString());
            if (children.TryGetValue(info.Id, out List<GreenletInfo>? kids))
            {
                for (int i = kids.Count - 1; i >= 0; i--)
                {
                    stack.Push((kids[i], depth + 1));
                }
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="text"/> with its line breaks and other control characters escaped
    /// (<c>\n</c>, <c>\u2028</c>): a name or a wait description that holds one must not break the
    /// dump's one line per greenlet.
    /// </summary>
    private static void AppendOneLine(StringBuilder line, string text)
    {
        foreach (char c in text)
        {
            if (!NeedsEscape(c))
            {
                line.Append(c);
                continue;
            }

            line.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }
    }

    /// <summary>
    /// <paramref name="text"/> with its line breaks and other control characters escaped as in the
    /// dump, for a report that must stay one line (<see cref="BlockedLoopInfo"/>,
    /// <see cref="SlowCallbackInfo"/>); the text itself when it holds none.
    /// </summary>
    public static string OneLine(string text)
    {
        foreach (char c in text)
        {
            if (NeedsEscape(c))
            {
                var line = new StringBuilder(text.Length + 8);
                AppendOneLine(line, text);
                return line.ToString();
            }
        }

        return text;
    }

    // A line break (also U+2028/U+2029, which some viewers break on) or another control character.
    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    /// <summary>A span in the unit a person reads best: ms below a second, else seconds, minutes, hours.</summary>
    public static string FormatSpan(TimeSpan span)
    {
        double s = span.TotalSeconds;
        if (s < 0)
        {
            s = 0;
        }

        return s switch
        {
            < 1 => string.Create(CultureInfo.InvariantCulture, $"{s * 1000:0} ms"),
            < 120 => string.Create(CultureInfo.InvariantCulture, $"{s:0.0} s"),
            < 7200 => string.Create(CultureInfo.InvariantCulture, $"{s / 60:0.0} min"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{s / 3600:0.0} h"),
        };
    }

    /// <summary>A type's name as C# writes it: <c>LoopQueue&lt;Job&gt;</c>, not <c>LoopQueue`1</c>.</summary>
    public static string TypeName(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.Name;
        }

        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }
}
