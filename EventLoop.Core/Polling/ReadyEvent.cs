namespace EventLoop.Polling;

/// <summary>One ready descriptor as reported by <see cref="IPoller.Poll"/>.</summary>
/// <param name="Token">The token the descriptor was registered with.</param>
/// <param name="Events">Ready directions; errors and hang-ups arrive as Read | Write.</param>
internal readonly record struct ReadyEvent(int Token, IoEvents Events);
