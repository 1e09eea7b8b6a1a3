namespace EventLoop.Samples.Http;

/// <summary>The outcome of one GET in the fetch demo.</summary>
/// <param name="Url">The URL.</param>
/// <param name="Bytes">Body length received.</param>
/// <param name="Error">Why it failed, or null on success.</param>
public sealed record FetchResult(Uri Url, int Bytes, string? Error)
{
    /// <summary>True when the body was received.</summary>
    public bool Succeeded => Error is null;
}
