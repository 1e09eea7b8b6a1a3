using System.Buffers;
using System.Text;
using EventLoop.Samples.Http;

namespace EventLoop.Tests.Samples.Http;

public sealed class MiniHttpTests
{
    private static HttpParseStatus Parse(string text, out HttpRequestHead? head, out int consumed) =>
        MiniHttp.TryParseRequestHead(Encoding.Latin1.GetBytes(text), out head, out consumed, out _);

    [Fact]
    public void TryParseRequestHead_SimpleGet_ParsesLineAndDefaultsToKeepAlive()
    {
        const string Request = "GET /medium?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n";

        Assert.Equal(HttpParseStatus.Done, Parse(Request + "GET / HTTP/1.1\r\n", out var head, out int consumed));

        Assert.Equal(Request.Length, consumed);
        Assert.Equal("GET", head!.Method);
        Assert.Equal("/medium?x=1", head.Target);
        Assert.Equal("/medium", head.Path);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.True(head.KeepAlive);
        Assert.Equal(0, head.ContentLength);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nconnection: Upgrade, Close\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nConnection:keep-alive\r\n\r\n", true)]
    public void TryParseRequestHead_ConnectionHeader_DecidesKeepAlive(string request, bool keepAlive)
    {
        Assert.Equal(HttpParseStatus.Done, Parse(request, out var head, out _));
        Assert.Equal(keepAlive, head!.KeepAlive);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r")]
    public void TryParseRequestHead_Incomplete_NeedsMoreData(string request)
    {
        Assert.Equal(HttpParseStatus.NeedMoreData, Parse(request, out var head, out int consumed));
        Assert.Null(head);
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData("GET /\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nNo colon here\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n: empty name\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")]
    public void TryParseRequestHead_Malformed_IsInvalidWithAReason(string request)
    {
        var status = MiniHttp.TryParseRequestHead(Encoding.Latin1.GetBytes(request), out var head, out _, out string? error);

        Assert.Equal(HttpParseStatus.Invalid, status);
        Assert.Null(head);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParseRequestHead_HeadBeyondLimit_IsTooLarge()
    {
        string huge = "GET / HTTP/1.1\r\nX-Filler: " + new string('a', MiniHttp.MaxHeadLength) + "\r\n\r\n";

        Assert.Equal(HttpParseStatus.TooLarge, Parse(huge, out _, out _));
        Assert.Equal(HttpParseStatus.TooLarge, Parse(huge[..^4], out _, out _));
    }

    [Fact]
    public void WriteResponse_KeepAlive_HasLengthAndNoConnectionClose()
    {
        var output = new ArrayBufferWriter<byte>();

        MiniHttp.WriteResponse(output, 200, "OK", "text/html", "<p>hi</p>"u8, keepAlive: true);

        Assert.Equal(
            "HTTP/1.1 200 OK\r\nServer: EventLoop.Samples\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<p>hi</p>",
            Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteResponse_HeadRequest_DescribesButOmitsTheBody()
    {
        var output = new ArrayBufferWriter<byte>();

        MiniHttp.WriteResponse(output, 200, "OK", "text/plain", "12345"u8, keepAlive: false, omitBody: true);

        string text = Encoding.ASCII.GetString(output.WrittenSpan);
        Assert.Contains("Content-Length: 5\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteError_ClosesTheConnection()
    {
        var output = new ArrayBufferWriter<byte>();

        MiniHttp.WriteError(output, 400, "Bad Request");

        string text = Encoding.ASCII.GetString(output.WrittenSpan);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nBad Request\n", text, StringComparison.Ordinal);
    }
}
