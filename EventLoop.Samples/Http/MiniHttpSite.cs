using System.Buffers;
using System.Text;

namespace EventLoop.Samples.Http;

/// <summary>
/// What the mini HTTP server serves: a few static pages by path, answered as pure functions so the
/// routing and status codes are testable without sockets.
/// </summary>
public sealed class MiniHttpSite
{
    private readonly Dictionary<string, byte[]> _pages;

    /// <summary>Creates a site from path → HTML body.</summary>
    /// <param name="pages">The pages; paths start with '/'.</param>
    public MiniHttpSite(IReadOnlyDictionary<string, byte[]> pages)
    {
        ArgumentNullException.ThrowIfNull(pages);
        _pages = new Dictionary<string, byte[]>(pages, StringComparer.Ordinal);
    }

    /// <summary>The served paths.</summary>
    public IEnumerable<string> Paths => _pages.Keys;

    /// <summary>
    /// The default site: three pages of different sizes (about 1 KiB, 32 KiB and 256 KiB), so the
    /// fetch demo's downloads finish at different times.
    /// </summary>
    /// <returns>The site.</returns>
    public static MiniHttpSite CreateDefault() => new(new Dictionary<string, byte[]>
    {
        ["/"] = MakePage("index", 1024),
        ["/medium"] = MakePage("medium", 32 * 1024),
        ["/large"] = MakePage("large", 256 * 1024),
    });

    /// <summary>The body served at <paramref name="path"/>, if any.</summary>
    /// <param name="path">The path.</param>
    /// <param name="body">The body.</param>
    /// <returns>True when the path exists.</returns>
    public bool TryGetPage(string path, out byte[] body) => _pages.TryGetValue(path, out body!);

    /// <summary>Writes the response to <paramref name="request"/>.</summary>
    /// <param name="request">The parsed request head.</param>
    /// <param name="output">Destination for the whole response.</param>
    /// <returns>Whether the connection stays open afterwards.</returns>
    public bool Respond(HttpRequestHead request, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        bool head = request.Method == "HEAD";
        if (request.Method != "GET" && !head)
        {
            MiniHttp.WriteError(output, 405, "Method Not Allowed");
            return false;
        }

        if (request.ContentLength > 0)
        {
            // Bodies are never read, so the stream would desynchronise; refuse and close.
            MiniHttp.WriteError(output, 400, "Bad Request");
            return false;
        }

        if (!_pages.TryGetValue(request.Path, out byte[]? body))
        {
            MiniHttp.WriteResponse(output, 404, "Not Found", "text/plain; charset=utf-8", "Not Found\n"u8, request.KeepAlive);
            return request.KeepAlive;
        }

        MiniHttp.WriteResponse(output, 200, "OK", "text/html; charset=utf-8", body, request.KeepAlive, omitBody: head);
        return request.KeepAlive;
    }

    private static byte[] MakePage(string title, int size)
    {
        var html = new StringBuilder(size + 128);
        html.Append("<!DOCTYPE html>\n<html><head><title>").Append(title).Append("</title></head><body>\n");
        const string Line = "<p>Served by EventLoop.Samples' mini HTTP server, on the loop.</p>\n";
        const string Tail = "</body></html>\n";
        while (html.Length + Line.Length + Tail.Length <= size)
        {
            html.Append(Line);
        }

        html.Append(Tail);
        return Encoding.UTF8.GetBytes(html.ToString());
    }
}
