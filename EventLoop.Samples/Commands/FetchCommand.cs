using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using EventLoop.Samples.Http;

namespace EventLoop.Samples.Commands;

/// <summary><c>fetch</c>: gevent's concurrent downloads, through an HttpClient whose sockets are the loop's.</summary>
internal static class FetchCommand
{
    private const int DefaultTimeoutSeconds = 30;

    public static Command Create(TextWriter output, TextWriter error)
    {
        // System.CommandLine 2.0 has no converter for Uri: an Argument<Uri[]> without this parser
        // binds every token to null and reports no error.
        var urls = new Argument<Uri[]>("url")
        {
            Description = "URLs to GET concurrently; none fetches three pages from a local server started on the loop",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ParseUrls,
        };
        Option<int> timeout = CommonOptions.Timeout(DefaultTimeoutSeconds, "Seconds each URL may take, from connecting to the last byte, before it counts as failed");
        var command = new Command("fetch", "Concurrent GETs of the URLs given (none: of a local server's pages), one greenlet per URL, on the loop's sockets") { urls, timeout };
        command.SetAction(parseResult =>
        {
            Uri[] targets = parseResult.GetValue(urls) ?? [];
            var perUrl = TimeSpan.FromSeconds(parseResult.GetValue(timeout));
            return CommandLoop.Run(error, async loop =>
            {
                bool ok;
                if (targets.Length > 0)
                {
                    IReadOnlyList<FetchResult> results = await Fetcher.FetchAllAsync(loop, targets, output, perUrl);
                    ok = results.All(r => r.Succeeded);
                }
                else
                {
                    ok = await FetchFromOwnServerAsync(loop, output, perUrl);
                }

                return ok ? 0 : CommandErrors.Failure;
            });
        });
        return command;
    }

    private static async Task<bool> FetchFromOwnServerAsync(Loop loop, TextWriter output, TimeSpan perUrl)
    {
        MiniHttpSite site = MiniHttpSite.CreateDefault();
        await using var server = new MiniHttpServer(loop, new IPEndPoint(IPAddress.Loopback, 0), site);
        server.Start();
        output.WriteLine($"serving {site.Paths.Count()} pages on {server.BaseUri}");
        Uri[] local = site.Paths.Select(p => new Uri(server.BaseUri, p)).ToArray();
        IReadOnlyList<FetchResult> fetched = await Fetcher.FetchAllAsync(loop, local, output, perUrl);
        await server.StopAsync(TimeSpan.FromSeconds(1));
        return fetched.All(r => r.Succeeded);
    }

    /// <summary>Absolute http(s) URLs, one per token; each token that is not one becomes a parse error.</summary>
    private static Uri[] ParseUrls(ArgumentResult result)
    {
        var parsed = new List<Uri>(result.Tokens.Count);
        foreach (Token token in result.Tokens)
        {
            if (Uri.TryCreate(token.Value, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https")
            {
                parsed.Add(uri);
            }
            else
            {
                result.AddError($"'{token.Value}' is not an absolute http(s) URL");
            }
        }

        return [.. parsed];
    }
}
