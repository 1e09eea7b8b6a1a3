namespace EventLoop.Samples.Cache;

/// <summary>
/// Size limits applied to incoming requests. A request over any limit is a protocol error
/// (or, for <see cref="MaxQueryBufferLength"/>, an immediate close), as in Redis.
/// </summary>
/// <remarks>
/// Redis allows 512 MiB bulk strings; a sample server has no use for that, so the bulk default is
/// smaller. The other defaults are Redis's own (PROTO_INLINE_MAX_SIZE, the classic 1024*1024
/// multibulk cap).
/// </remarks>
public sealed record RespLimits
{
    /// <summary>The defaults: 64 MiB bulk strings, 1,048,576 arguments, 64 KiB inline requests, 128 MiB query buffer.</summary>
    public static RespLimits Default { get; } = new();

    /// <summary>Largest accepted bulk string, in bytes. Default 64 MiB.</summary>
    public int MaxBulkLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>Largest accepted multibulk argument count. Default 1,048,576.</summary>
    public int MaxArrayLength { get; init; } = 1024 * 1024;

    /// <summary>
    /// Largest accepted inline request line, and the longest a <c>*N</c> or <c>$N</c> header line may
    /// grow before its CRLF arrives. Default 64 KiB.
    /// </summary>
    public int MaxInlineLength { get; init; } = 64 * 1024;

    /// <summary>
    /// Most unprocessed input one connection may buffer (Redis's client-query-buffer-limit).
    /// Exceeding it closes the connection without a reply, as Redis does. Default 128 MiB, which
    /// leaves room for one maximal bulk string plus its framing.
    /// </summary>
    public int MaxQueryBufferLength { get; init; } = 128 * 1024 * 1024;
}
