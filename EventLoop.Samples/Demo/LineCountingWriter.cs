using System.Text;

namespace EventLoop.Samples.Demo;

/// <summary>Passes lines through to another writer, counting those that end with a marker word.</summary>
internal sealed class LineCountingWriter(TextWriter inner, string suffix) : TextWriter
{
    public int Count { get; private set; }

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => inner.Write(value);

    public override void WriteLine(string? value)
    {
        if (value is not null && value.EndsWith(suffix, StringComparison.Ordinal))
        {
            Count++;
        }

        inner.WriteLine(value);
    }
}
