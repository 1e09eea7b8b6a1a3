using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>Encodes client requests as RESP2 multibulk arrays (client side).</summary>
public static class RespRequestWriter
{
    /// <summary>Writes <c>*N\r\n</c> then each argument as a bulk string, UTF-8 encoded.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="args">Command name and arguments; at least one.</param>
    /// <exception cref="ArgumentException"><paramref name="args"/> is empty.</exception>
    public static void WriteCommand(IBufferWriter<byte> output, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0)
        {
            throw new ArgumentException("A command needs at least its name.", nameof(args));
        }

        WriteHeader(output, (byte)'*', args.Length);
        foreach (string arg in args)
        {
            ArgumentNullException.ThrowIfNull(arg, nameof(args));
            int length = Encoding.UTF8.GetByteCount(arg);
            WriteHeader(output, (byte)'$', length);
            var span = output.GetSpan(length + 2);
            Encoding.UTF8.GetBytes(arg, span);
            span[length] = (byte)'\r';
            span[length + 1] = (byte)'\n';
            output.Advance(length + 2);
        }
    }

    /// <summary>Writes <c>*N\r\n</c> then each argument as a binary-safe bulk string.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="args">Command name and arguments; at least one.</param>
    /// <exception cref="ArgumentException"><paramref name="args"/> is empty.</exception>
    public static void WriteCommand(IBufferWriter<byte> output, IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0)
        {
            throw new ArgumentException("A command needs at least its name.", nameof(args));
        }

        WriteHeader(output, (byte)'*', args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i].Span;
            WriteHeader(output, (byte)'$', arg.Length);
            output.Write(arg);
            output.Write("\r\n"u8);
        }
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte prefix, int count)
    {
        var span = output.GetSpan(16);
        span[0] = prefix;
        Utf8Formatter.TryFormat(count, span[1..], out int digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        output.Advance(digits + 3);
    }
}
