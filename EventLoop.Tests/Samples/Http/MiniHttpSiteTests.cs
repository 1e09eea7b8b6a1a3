using System.Buffers;
using System.Text;
using EventLoop.Samples.Http;

namespace EventLoop.Tests.Samples.Http;

public sealed class MiniHttpSiteTests
{
    private static (bool KeepAlive, string Response) Respond(MiniHttpSite site, string method, string target, bool keepAlive = true, long contentLength = 0)
    {
        var output = new ArrayBufferWriter<byte>();
        bool open = site.Respond(new HttpRequestHead(method, target, "HTTP/1.1", keepAlive, contentLength), output);
        return (open, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void CreateDefault_ServesThreePagesOfDifferentSizes()
    {
        MiniHttpSite site = MiniHttpSite.CreateDefault();

        int[] sizes = site.Paths.Select(p => { Assert.True(site.TryGetPage(p, out byte[] body)); return body.Length; }).ToArray();

        Assert.Equal(3, sizes.Length);
        Assert.Equal(3, sizes.Distinct().Count());
    }

    [Fact]
    public void Respond_KnownPage_Is200WithTheBody()
    {
        MiniHttpSite site = MiniHttpSite.CreateDefault();
        site.TryGetPage("/medium", out byte[] body);

        (bool keepAlive, string response) = Respond(site, "GET", "/medium?cache=no");

        Assert.True(keepAlive);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"Content-Length: {body.Length}\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith(Encoding.UTF8.GetString(body), response, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_UnknownPage_Is404AndKeepsTheConnection()
    {
        (bool keepAlive, string response) = Respond(MiniHttpSite.CreateDefault(), "GET", "/missing");

        Assert.True(keepAlive);
        Assert.StartsWith("HTTP/1.1 404 Not Found\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_OtherMethod_Is405AndCloses()
    {
        (bool keepAlive, string response) = Respond(MiniHttpSite.CreateDefault(), "DELETE", "/");

        Assert.False(keepAlive);
        Assert.StartsWith("HTTP/1.1 405 Method Not Allowed\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_RequestWithBody_Is400AndCloses()
    {
        (bool keepAlive, string response) = Respond(MiniHttpSite.CreateDefault(), "GET", "/", contentLength: 3);

        Assert.False(keepAlive);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_Head_HasNoBody()
    {
        (_, string response) = Respond(MiniHttpSite.CreateDefault(), "HEAD", "/");

        Assert.EndsWith("\r\n\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_ClientAskedToClose_DoesNotKeepAlive()
    {
        (bool keepAlive, string response) = Respond(MiniHttpSite.CreateDefault(), "GET", "/", keepAlive: false);

        Assert.False(keepAlive);
        Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
    }
}
