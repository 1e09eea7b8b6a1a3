using System.Buffers;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class RespWriterTests
{
    private static string Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return CacheHarness.Latin1(output.WrittenSpan);
    }

    [Fact]
    public void Write_EachReplyType_ExactBytes()
    {
        Assert.Equal("+OK\r\n", Write(RespWriter.WriteOk));
        Assert.Equal("+PONG\r\n", Write(o => RespWriter.WriteSimpleString(o, "PONG")));
        Assert.Equal("+PONG\r\n", Write(o => RespWriter.WriteSimpleString(o, "PONG"u8)));
        Assert.Equal("-ERR syntax error\r\n", Write(o => RespWriter.WriteError(o, "ERR syntax error")));
        Assert.Equal("-ERR x\r\n", Write(o => RespWriter.WriteError(o, "ERR x"u8)));
        Assert.Equal(":0\r\n", Write(o => RespWriter.WriteInteger(o, 0)));
        Assert.Equal(":-9223372036854775808\r\n", Write(o => RespWriter.WriteInteger(o, long.MinValue)));
        Assert.Equal(":9223372036854775807\r\n", Write(o => RespWriter.WriteInteger(o, long.MaxValue)));
        Assert.Equal("$5\r\nhello\r\n", Write(o => RespWriter.WriteBulkString(o, "hello"u8)));
        Assert.Equal("$0\r\n\r\n", Write(o => RespWriter.WriteBulkString(o, ReadOnlySpan<byte>.Empty)));
        Assert.Equal("$2\r\n\u00ff\u0000\r\n", Write(o => RespWriter.WriteBulkString(o, "\u00ff\u0000")));
        Assert.Equal("$-1\r\n", Write(RespWriter.WriteNullBulkString));
        Assert.Equal("*2\r\n", Write(o => RespWriter.WriteArrayHeader(o, 2)));
        Assert.Equal("*0\r\n", Write(o => RespWriter.WriteArrayHeader(o, 0)));
        Assert.Equal("*-1\r\n", Write(RespWriter.WriteNullArray));
    }

    [Fact]
    public void WriteError_WithNewlines_ReplacedBySpaces()
    {
        Assert.Equal("-ERR a b c\r\n", Write(o => RespWriter.WriteError(o, "ERR a\rb\nc")));
    }

    [Fact]
    public void WriteBulkString_Large_ExactBytes()
    {
        var value = new byte[100_000];
        Random.Shared.NextBytes(value);
        var output = new ArrayBufferWriter<byte>();

        RespWriter.WriteBulkString(output, value);

        Assert.Equal("$100000\r\n"u8.ToArray().Concat(value).Concat("\r\n"u8.ToArray()), output.WrittenSpan.ToArray());
    }
}
