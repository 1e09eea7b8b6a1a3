namespace EventLoop.Samples.SyncVsAsync;

/// <summary>Elapsed times of the two halves of <see cref="SyncVsAsyncDemo"/>.</summary>
/// <param name="Synchronous">Nine blocking tasks one after another.</param>
/// <param name="Asynchronous">Ten greenlets sleeping concurrently.</param>
public sealed record SyncVsAsyncResult(TimeSpan Synchronous, TimeSpan Asynchronous);
