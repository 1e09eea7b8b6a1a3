namespace EventLoop.Samples.Http;

/// <summary>The request line and the headers the mini server acts on.</summary>
/// <param name="Method">The method, as sent (case-sensitive per RFC 9110).</param>
/// <param name="Target">The request target (origin form, e.g. <c>/small?x=1</c>).</param>
/// <param name="Version">The version: <c>HTTP/1.1</c> or <c>HTTP/1.0</c>.</param>
/// <param name="KeepAlive">Whether the connection persists after the response (HTTP/1.1 default, overridden by <c>Connection</c>).</param>
/// <param name="ContentLength">The declared body length; 0 when absent.</param>
public sealed record HttpRequestHead(string Method, string Target, string Version, bool KeepAlive, long ContentLength)
{
    /// <summary>The target without its query string.</summary>
    public string Path => Target.IndexOf('?', StringComparison.Ordinal) is int q and >= 0 ? Target[..q] : Target;
}
