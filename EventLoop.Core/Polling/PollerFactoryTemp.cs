namespace EventLoop.Polling;
internal static class PollerFactory
{
    public static PollerKind Resolve(PollerKind k) => throw new NotImplementedException();
    public static IPoller Create(PollerKind k) => throw new NotImplementedException();
    public static IWaker CreateWaker(PollerKind k) => throw new NotImplementedException();
}
