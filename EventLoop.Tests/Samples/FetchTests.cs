using System.Net;
using EventLoop.Samples.Http;
using EventLoop.Tests.Core;

namespace EventLoop.Tests.Samples;

/// <summary>The fetch sample against the mini HTTP server, both on one loop.</summary>
public sealed class FetchTests
{
    [Fact]
    public void FetchAll_OwnServer_ReceivesEveryPageWithItsSize()
    {
        using var loop = new Loop();
        var output = new StringWriter();
        MiniHttpSite site = MiniHttpSite.CreateDefault();

        (IReadOnlyList<FetchResult> results, int served) = loop.Run(async () =>
        {
            var server = new MiniHttpServer(loop, new IPEndPoint(IPAddress.Loopback, 0), site);
            server.Start();
            Uri[] urls = [.. site.Paths.Select(p => new Uri(server.BaseUri, p)), new Uri(server.BaseUri, "/missing")];
            var fetched = await Fetcher.FetchAllAsync(loop, urls, output, TimeSpan.FromSeconds(10));
            await server.StopAsync(TimeSpan.FromSeconds(1));
            return (fetched, server.RequestsServed);
        });

        Assert.Equal(4, results.Count);
        foreach (FetchResult result in results.Take(3))
        {
            Assert.True(result.Succeeded, result.Error);
            Assert.True(site.TryGetPage(result.Url.AbsolutePath, out byte[] body));
            Assert.Equal(body.Length, result.Bytes);
            Assert.Contains($"GET: {result.Url}", output.ToString(), StringComparison.Ordinal);
            Assert.Contains($"{body.Length} bytes received from {result.Url}", output.ToString(), StringComparison.Ordinal);
        }

        Assert.False(results[3].Succeeded);
        Assert.Equal(4, served);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void FetchAll_ServerThatNeverAnswers_ReportsTheTimeoutAlone_NotTheConnectionItClosed()
    {
        using var loop = new Loop();
        var output = new StringWriter();
        IReadOnlyList<FetchResult> results = loop.Run(async () =>
        {
            using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            Task<System.Net.Sockets.Socket> accepted = listener.AcceptAsync(); // accepted, never answered
            var url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}/slow");
            IReadOnlyList<FetchResult> fetched = await Fetcher.FetchAllAsync(loop, [url], output, TimeSpan.FromSeconds(2));
            (await accepted).Dispose();
            return fetched;
        });

        FetchResult result = Assert.Single(results);
        Assert.False(result.Succeeded);
        Assert.Contains("HttpClient.Timeout", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("disposed", output.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
