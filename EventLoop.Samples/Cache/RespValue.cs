using System.Text;

namespace EventLoop.Samples.Cache;

/// <summary>A parsed RESP2 reply (client side). Immutable.</summary>
public sealed class RespValue
{
    private RespValue(RespValueKind kind, string? text = null, long integer = 0, byte[]? bytes = null, IReadOnlyList<RespValue>? items = null)
    {
        Kind = kind;
        Text = text;
        Integer = integer;
        Bytes = bytes;
        Items = items;
    }

    /// <summary>The null bulk string, <c>$-1</c>.</summary>
    public static RespValue NullBulkString { get; } = new(RespValueKind.BulkString);

    /// <summary>The null array, <c>*-1</c>.</summary>
    public static RespValue NullArray { get; } = new(RespValueKind.Array);

    /// <summary>The reply type.</summary>
    public RespValueKind Kind { get; }

    /// <summary>For <see cref="RespValueKind.SimpleString"/> and <see cref="RespValueKind.Error"/>: the text (Latin-1 decoded), else null.</summary>
    public string? Text { get; }

    /// <summary>For <see cref="RespValueKind.Integer"/>: the value, else 0.</summary>
    public long Integer { get; }

    /// <summary>For <see cref="RespValueKind.BulkString"/>: the bytes, or null for the null bulk string.</summary>
    public byte[]? Bytes { get; }

    /// <summary>For <see cref="RespValueKind.Array"/>: the elements, or null for the null array.</summary>
    public IReadOnlyList<RespValue>? Items { get; }

    /// <summary>True for <c>$-1</c> and <c>*-1</c>.</summary>
    public bool IsNull => Kind switch
    {
        RespValueKind.BulkString => Bytes is null,
        RespValueKind.Array => Items is null,
        _ => false,
    };

    /// <summary>Creates a simple string reply.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The value.</returns>
    public static RespValue SimpleString(string text) => new(RespValueKind.SimpleString, text: text);

    /// <summary>Creates an error reply.</summary>
    /// <param name="message">The message, including its code (e.g. "ERR ...").</param>
    /// <returns>The value.</returns>
    public static RespValue Error(string message) => new(RespValueKind.Error, text: message);

    /// <summary>Creates an integer reply.</summary>
    /// <param name="value">The integer.</param>
    /// <returns>The value.</returns>
    public static RespValue FromInteger(long value) => new(RespValueKind.Integer, integer: value);

    /// <summary>Creates a bulk string reply.</summary>
    /// <param name="bytes">The bytes; the value keeps the array.</param>
    /// <returns>The value.</returns>
    public static RespValue BulkString(byte[] bytes) => new(RespValueKind.BulkString, bytes: bytes);

    /// <summary>Creates an array reply.</summary>
    /// <param name="items">The elements; the value keeps the list.</param>
    /// <returns>The value.</returns>
    public static RespValue Array(IReadOnlyList<RespValue> items) => new(RespValueKind.Array, items: items);

    /// <summary>The bulk string decoded as UTF-8, or the text of a simple string or error; null otherwise.</summary>
    /// <returns>The string, or null.</returns>
    public string? AsString() => Kind == RespValueKind.BulkString
        ? (Bytes is null ? null : Encoding.UTF8.GetString(Bytes))
        : Text;

    /// <summary>Formats the value like redis-cli does, for logs and test failure messages.</summary>
    /// <returns>A readable rendering.</returns>
    public override string ToString() => Kind switch
    {
        RespValueKind.SimpleString => Text!,
        RespValueKind.Error => "(error) " + Text,
        RespValueKind.Integer => "(integer) " + Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespValueKind.BulkString => Bytes is null ? "(nil)" : "\"" + Encoding.UTF8.GetString(Bytes) + "\"",
        _ => Items is null ? "(nil array)" : "[" + string.Join(", ", Items) + "]",
    };
}
