namespace EventLoop.Samples.Cache;

/// <summary>What the connection should do after a command's reply has been written.</summary>
public enum CommandResult
{
    /// <summary>Keep reading requests.</summary>
    Continue,

    /// <summary>Flush the reply, then close the connection (QUIT).</summary>
    CloseAfterReply,
}
