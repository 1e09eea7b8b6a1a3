using System.Buffers;
using System.Text;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class RespParserTests
{
    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static string[] Args(RespParser parser)
    {
        var result = new string[parser.Arguments.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Encoding.Latin1.GetString(parser.Arguments.Span(i));
        }

        return result;
    }

    /// <summary>Feeds input in the given pieces like a connection would; returns every request and the error, if any.</summary>
    private static (List<string[]> Requests, string? Error) ParseInChunks(byte[] input, IEnumerable<int> chunkSizes, RespLimits? limits = null)
    {
        var parser = new RespParser(limits);
        var buffer = new List<byte>();
        var requests = new List<string[]>();
        int offset = 0;
        using var sizes = chunkSizes.GetEnumerator();
        while (offset < input.Length)
        {
            int size = sizes.MoveNext() ? Math.Min(sizes.Current, input.Length - offset) : input.Length - offset;
            buffer.AddRange(input.AsSpan(offset, size).ToArray());
            offset += size;
            while (true)
            {
                var status = parser.TryParse(buffer.ToArray(), out int consumed, out string? error);
                buffer.RemoveRange(0, consumed);
                if (status == OperationStatus.Done)
                {
                    requests.Add(Args(parser));
                    continue;
                }

                if (status == OperationStatus.InvalidData)
                {
                    Assert.Equal(0, consumed);
                    return (requests, error);
                }

                break;
            }
        }

        return (requests, null);
    }

    [Fact]
    public void TryParse_WholeMultibulk_ReturnsArguments()
    {
        var parser = new RespParser();
        var input = Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");

        var status = parser.TryParse(input, out int consumed, out string? error);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(input.Length, consumed);
        Assert.Null(error);
        Assert.Equal(["SET", "k", ""], Args(parser));
    }

    [Fact]
    public void TryParse_SplitAtEveryByte_SameResult()
    {
        const string Text = "*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\no\r\nPING\r\n\r\n*1\r\n$4\r\nPING\r\n";
        var input = Bytes(Text);
        for (int split = 0; split <= input.Length; split++)
        {
            var (requests, error) = ParseInChunks(input, [split, input.Length]);
            Assert.Null(error);
            Assert.Equal(3, requests.Count);
            Assert.Equal(["ECHO", "he\r\no"], requests[0]);
            Assert.Equal(["PING"], requests[1]);
            Assert.Equal(["PING"], requests[2]);
        }
    }

    [Fact]
    public void TryParse_OneByteAtATime_SameResult()
    {
        var input = Bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\nGET key\r\n");

        var (requests, error) = ParseInChunks(input, Enumerable.Repeat(1, input.Length));

        Assert.Null(error);
        Assert.Equal(2, requests.Count);
        Assert.Equal(["SET", "key", "value"], requests[0]);
        Assert.Equal(["GET", "key"], requests[1]);
    }

    [Fact]
    public void TryParse_Incomplete_NeedsMoreDataWithoutConsuming()
    {
        var parser = new RespParser();

        var status = parser.TryParse(Bytes("*2\r\n$3\r\nGET\r\n$1\r\n"), out int consumed, out _);

        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TryParse_Pipelined_ParsesOnePerCall()
    {
        var parser = new RespParser();
        var input = Bytes("PING\r\n*1\r\n$4\r\nPING\r\n");

        Assert.Equal(OperationStatus.Done, parser.TryParse(input, out int first, out _));
        Assert.Equal(6, first);
        Assert.Equal(OperationStatus.Done, parser.TryParse(input.AsSpan(first), out int second, out _));
        Assert.Equal(input.Length, first + second);
    }

    [Theory]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("PING\n", new[] { "PING" })]
    [InlineData("  set \t k   v  \r\n", new[] { "set", "k", "v" })]
    [InlineData("set k \"a b\\x41\\n\"\r\n", new[] { "set", "k", "a bA\n" })]
    [InlineData("echo 'it\\'s'\r\n", new[] { "echo", "it's" })]
    [InlineData("echo \"\"\r\n", new[] { "echo", "" })]
    public void TryParse_Inline_SplitsLikeRedis(string line, string[] expected)
    {
        var parser = new RespParser();

        Assert.Equal(OperationStatus.Done, parser.TryParse(Bytes(line), out int consumed, out _));
        Assert.Equal(line.Length, consumed);
        Assert.Equal(expected, Args(parser));
    }

    [Fact]
    public void TryParse_EmptyLinesAndZeroCounts_Skipped()
    {
        var parser = new RespParser();
        var input = Bytes("\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n");

        Assert.Equal(OperationStatus.Done, parser.TryParse(input, out int consumed, out _));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(["PING"], Args(parser));
    }

    [Fact]
    public void TryParse_OnlyEmptyLines_ConsumesThemAndNeedsMore()
    {
        var parser = new RespParser();

        Assert.Equal(OperationStatus.NeedMoreData, parser.TryParse(Bytes("\r\n\r\nPI"), out int consumed, out _));
        Assert.Equal(4, consumed);
    }

    [Theory]
    [InlineData("*abc\r\n", RespParser.InvalidMultibulkLength)]
    [InlineData("*01\r\n", RespParser.InvalidMultibulkLength)]
    [InlineData("*1048577\r\n", RespParser.InvalidMultibulkLength)]
    [InlineData("*1\r\n$-1\r\n", RespParser.InvalidBulkLength)]
    [InlineData("*1\r\n$x\r\n", RespParser.InvalidBulkLength)]
    [InlineData("*1\r\n$67108865\r\n", RespParser.InvalidBulkLength)]
    [InlineData("*1\r\n:1\r\n", "Protocol error: expected '$', got ':'")]
    [InlineData("*2\r\n$1\r\na\r\n\r\n", "Protocol error: expected '$', got ' '")]
    [InlineData("echo \"abc\r\n", RespParser.UnbalancedQuotes)]
    [InlineData("echo 'abc\r\n", RespParser.UnbalancedQuotes)]
    [InlineData("echo \"a\"b\r\n", RespParser.UnbalancedQuotes)]
    public void TryParse_Malformed_ReportsRedisError(string input, string expected)
    {
        var parser = new RespParser();

        var status = parser.TryParse(Bytes(input), out int consumed, out string? error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(0, consumed);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TryParse_InlineWithoutNewlineOverLimit_TooBigInlineRequest()
    {
        var parser = new RespParser(new RespLimits { MaxInlineLength = 16 });

        Assert.Equal(OperationStatus.NeedMoreData, parser.TryParse(Bytes(new string('a', 16)), out _, out _));
        Assert.Equal(OperationStatus.InvalidData, parser.TryParse(Bytes(new string('a', 17)), out _, out string? error));
        Assert.Equal(RespParser.TooBigInlineRequest, error);
    }

    [Fact]
    public void TryParse_InlineLineOverLimit_TooBigInlineRequest()
    {
        var parser = new RespParser(new RespLimits { MaxInlineLength = 16 });

        Assert.Equal(OperationStatus.InvalidData, parser.TryParse(Bytes(new string('a', 17) + "\r\n"), out _, out string? error));
        Assert.Equal(RespParser.TooBigInlineRequest, error);
    }

    [Fact]
    public void TryParse_HeaderLinesOverLimit_TooBigCountStrings()
    {
        var limits = new RespLimits { MaxInlineLength = 8 };

        Assert.Equal(OperationStatus.InvalidData, new RespParser(limits).TryParse(Bytes("*1234567890"), out _, out string? mbulk));
        Assert.Equal(RespParser.TooBigMultibulkCount, mbulk);
        Assert.Equal(OperationStatus.InvalidData, new RespParser(limits).TryParse(Bytes("*1\r\n$1234567890"), out _, out string? bulk));
        Assert.Equal(RespParser.TooBigBulkCount, bulk);
    }

    [Fact]
    public void TryParse_ConfiguredLimits_Enforced()
    {
        var limits = new RespLimits { MaxArrayLength = 2, MaxBulkLength = 3 };

        Assert.Equal(OperationStatus.InvalidData, new RespParser(limits).TryParse(Bytes("*3\r\n"), out _, out string? count));
        Assert.Equal(RespParser.InvalidMultibulkLength, count);
        Assert.Equal(OperationStatus.InvalidData, new RespParser(limits).TryParse(Bytes("*1\r\n$4\r\n"), out _, out string? length));
        Assert.Equal(RespParser.InvalidBulkLength, length);
        Assert.Equal(OperationStatus.Done, new RespParser(limits).TryParse(Bytes("*2\r\n$3\r\nabc\r\n$0\r\n\r\n"), out _, out _));
    }

    [Fact]
    public void TryParse_AfterError_ParsesFreshRequests()
    {
        var parser = new RespParser();
        Assert.Equal(OperationStatus.NeedMoreData, parser.TryParse(Bytes("*2\r\n$1\r\na\r\n"), out _, out _));
        Assert.Equal(OperationStatus.InvalidData, parser.TryParse(Bytes("*2\r\n$1\r\na\r\n!"), out _, out _));

        Assert.Equal(OperationStatus.Done, parser.TryParse(Bytes("PING\r\n"), out _, out _));
        Assert.Equal(["PING"], Args(parser));
    }
}
