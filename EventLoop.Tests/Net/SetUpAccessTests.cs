using System.Net;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>Listen and BindDatagram follow the loop's set-up rule: any thread while nobody runs the loop.</summary>
public sealed class SetUpAccessTests
{
    [Fact]
    public void Listen_FromAnotherThreadWhileTheLoopIsIdle_Works()
    {
        using var loop = new Loop();
        Exception? error = null;
        StreamListener? listener = null;
        var thread = new Thread(() => error = Record.Exception(() => listener = loop.Listen(LoopNet.AnyPort)));
        thread.Start();
        thread.Join();

        Assert.Null(error);
        listener!.Dispose();
        loop.RunOnce(TimeSpan.Zero);
    }

    [Fact]
    public void Listen_FromAnotherThreadWhileTheLoopRuns_Throws()
    {
        using var loop = new Loop();
        Exception? error = loop.Run(async () => await Task.Run(() => Record.Exception(() => loop.Listen(LoopNet.AnyPort))));

        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void BindDatagram_AfterDispose_ThrowsObjectDisposed()
    {
        var loop = new Loop();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => loop.BindDatagram(new IPEndPoint(IPAddress.Loopback, 0)));
    }
}
