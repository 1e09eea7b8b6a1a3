namespace EventLoop.Samples.Cache;

/// <summary>What the transport should do after feeding a connection's input.</summary>
public enum ConnectionAction
{
    /// <summary>Send any pending output and keep reading.</summary>
    Continue,

    /// <summary>Stop reading, send the pending output (which ends with the last reply), then close.</summary>
    CloseAfterFlush,
}
