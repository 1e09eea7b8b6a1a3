using EventLoop.Net;

namespace EventLoop.Samples.Http;

/// <summary>
/// gevent's concurrent-download example: one greenlet per URL, all sharing one HttpClient whose
/// sockets run on the loop (<see cref="LoopHttp.CreateHandler"/>).
/// </summary>
public static class Fetcher
{
    /// <summary>GETs every URL concurrently, printing <c>GET: url</c> and <c>N bytes received from url</c>. Loop thread, inside a greenlet.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="urls">The URLs.</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="timeout">Per-request timeout.</param>
    /// <returns>One result per URL, in input order; a URL's failure, whatever its cause, is printed and returned, not thrown.</returns>
    public static async Task<IReadOnlyList<FetchResult>> FetchAllAsync(Loop loop, IReadOnlyList<Uri> urls, TextWriter output, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(urls);
        ArgumentNullException.ThrowIfNull(output);
        using var client = new HttpClient(LoopHttp.CreateHandler(loop)) { Timeout = timeout };
        var greenlets = new Greenlet<FetchResult>[urls.Count];
        for (int i = 0; i < urls.Count; i++)
        {
            Uri url = urls[i];
            greenlets[i] = loop.Spawn(async killed =>
            {
                output.WriteLine($"GET: {url}");
                try
                {
                    byte[] body = await client.GetByteArrayAsync(url, killed);
                    output.WriteLine($"{body.Length} bytes received from {url}");
                    return new FetchResult(url, body.Length, null);
                }
                catch (Exception ex) when (!killed.IsCancellationRequested)
                {
                    // Every failure of one URL (refused, unknown host, reset, timeout, a bad
                    // status) is that URL's result; only a kill ends the greenlet with an exception.
                    string reason = ErrorText.Describe(ex);
                    output.WriteLine($"failed: {url}: {reason}");
                    return new FetchResult(url, 0, reason);
                }
            });
        }

        await loop.JoinAllAsync(greenlets);
        return Array.ConvertAll(greenlets, g => g.Value);
    }
}
