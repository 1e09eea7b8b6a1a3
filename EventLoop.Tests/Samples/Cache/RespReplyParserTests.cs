using System.Buffers;
using System.Text;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class RespReplyParserTests
{
    [Fact]
    public void TryParse_EachType()
    {
        var input = Encoding.Latin1.GetBytes("*6\r\n+OK\r\n-ERR bad\r\n:-42\r\n$3\r\na\r\n\r\n$-1\r\n*-1\r\n");

        Assert.Equal(OperationStatus.Done, RespReplyParser.TryParse(input, out var value, out int consumed));

        Assert.Equal(input.Length, consumed);
        Assert.Equal(RespValueKind.Array, value!.Kind);
        var items = value.Items!;
        Assert.Equal("OK", items[0].Text);
        Assert.Equal(RespValueKind.Error, items[1].Kind);
        Assert.Equal("ERR bad", items[1].Text);
        Assert.Equal(-42, items[2].Integer);
        Assert.Equal("a\r\n", items[3].AsString());
        Assert.True(items[4].IsNull);
        Assert.True(items[5].IsNull);
        Assert.Equal(RespValueKind.Array, items[5].Kind);
    }

    [Fact]
    public void TryParse_EveryPrefix_NeedsMoreData()
    {
        var input = "*2\r\n$3\r\nabc\r\n:1\r\n"u8.ToArray();
        for (int length = 0; length < input.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, RespReplyParser.TryParse(input.AsSpan(0, length), out _, out int consumed));
            Assert.Equal(0, consumed);
        }
    }

    [Theory]
    [InlineData("?x\r\n")]
    [InlineData(":1x\r\n")]
    [InlineData("$3\r\nabcd\r\n")]
    [InlineData("+OK\n")]
    [InlineData("*-2\r\n")]
    public void TryParse_Malformed_InvalidData(string input)
    {
        Assert.Equal(OperationStatus.InvalidData, RespReplyParser.TryParse(Encoding.Latin1.GetBytes(input), out _, out _));
    }

    [Fact]
    public void WriteCommand_Strings_Utf8Multibulk()
    {
        var output = new ArrayBufferWriter<byte>();

        RespRequestWriter.WriteCommand(output, "SET", "k", "é", "");

        Assert.Equal("*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$0\r\n\r\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
