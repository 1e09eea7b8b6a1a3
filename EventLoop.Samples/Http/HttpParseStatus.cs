namespace EventLoop.Samples.Http;

/// <summary>Outcome of parsing a request head.</summary>
public enum HttpParseStatus
{
    /// <summary>A complete head was parsed.</summary>
    Done,

    /// <summary>The head is not complete yet; read more.</summary>
    NeedMoreData,

    /// <summary>The bytes are not a valid HTTP/1.x request head; answer 400 and close.</summary>
    Invalid,

    /// <summary>The head exceeds the size limit; answer 431 and close.</summary>
    TooLarge,
}
