namespace EventLoop.Samples.Cache;

/// <summary>The RESP2 reply types.</summary>
public enum RespValueKind
{
    /// <summary><c>+text</c>.</summary>
    SimpleString,

    /// <summary><c>-message</c>.</summary>
    Error,

    /// <summary><c>:number</c>.</summary>
    Integer,

    /// <summary><c>$len</c> followed by bytes, or <c>$-1</c> (null).</summary>
    BulkString,

    /// <summary><c>*count</c> followed by elements, or <c>*-1</c> (null).</summary>
    Array,
}
