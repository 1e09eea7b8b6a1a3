namespace EventLoop.Net.Operations;

/// <summary>
/// What a <see cref="StreamConnection"/> keeps only on the io_uring back end: its ring send (with
/// what waits behind it), its multishot receiver, and received bytes waiting for the next
/// receive. Created on the connection's first ring operation, so a connection on epoll or poll
/// carries one null reference instead of these fields. Loop-thread only.
/// </summary>
internal sealed class RingConnectionState
{
    /// <summary>The connection's ring send (a small send copied to the ring) and what waits behind it, once it made one.</summary>
    public RingSend? Send { get; set; }

    /// <summary>The multishot receiver, from the connection's first zero-byte receive on.</summary>
    public RingReceiver? Receiver { get; set; }

    /// <summary>A pooled receive whose pool buffer still holds data, from <see cref="HeldOffset"/> on.</summary>
    public ReceiveOperation? Held { get; set; }

    /// <summary>Where the unread data in <see cref="Held"/>'s pool buffer starts.</summary>
    public int HeldOffset { get; set; }

    /// <summary>Bytes a canceled ring receive had already taken, from <see cref="KeptStart"/> to <see cref="KeptEnd"/>.</summary>
    public byte[]? Kept { get; set; }

    /// <summary>Start of the unread part of <see cref="Kept"/>.</summary>
    public int KeptStart { get; set; }

    /// <summary>End of the unread part of <see cref="Kept"/>; 0 when nothing is kept.</summary>
    public int KeptEnd { get; set; }
}
