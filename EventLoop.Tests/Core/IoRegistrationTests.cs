using System.Net.Sockets;

namespace EventLoop.Tests.Core;

public sealed class IoRegistrationTests
{
    [Fact]
    public void Register_LevelTriggered_UndrainedDataReportedAgain()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        pair.Right.Send("abc"u8);
        int calls = 0;
        IoRegistration? seen = null;
        IoRegistration reg = loop.Register(pair.Left, IoEvents.Read, (r, ev) =>
        {
            seen = r;
            Assert.Equal(IoEvents.Read, ev);
            calls++;
        });

        for (int i = 0; i < 3; i++)
        {
            loop.RunOnce(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(3, calls);
        Assert.Same(reg, seen); // the callback receives the very object Register returned
        reg.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Register_DrainedByCallback_NotReportedUntilNewData()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        var received = new List<string>();
        var buffer = new byte[64];
        using IoRegistration reg = loop.Register(pair.Left, IoEvents.Read, (_, _) =>
        {
            int n = pair.Left.Receive(buffer);
            received.Add(System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        });

        pair.Right.Send("one"u8);
        loop.RunOnce(TimeSpan.FromSeconds(30));
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(["one"], received);
        pair.Right.Send("two"u8);
        loop.RunOnce(TimeSpan.FromSeconds(30));
        Assert.Equal(["one", "two"], received);
    }

    [Fact]
    public void Dispose_ByEarlierCallbackInSameBatch_NoStaleEvent()
    {
        using var loop = new Loop();
        using var a = new SocketPair();
        using var b = new SocketPair();
        a.Right.Send("x"u8);
        b.Right.Send("y"u8);
        var calls = new List<string>();
        IoRegistration? regA = null, regB = null;
        regA = loop.Register(a.Left, IoEvents.Read, (self, _) =>
        {
            calls.Add("a");
            regB!.Dispose();
            self.Dispose();
        });
        regB = loop.Register(b.Left, IoEvents.Read, (self, _) =>
        {
            calls.Add("b");
            regA!.Dispose();
            self.Dispose();
        });

        // Both are ready in the same poll; whichever runs first disposes the other.
        while (calls.Count == 0)
        {
            loop.RunOnce(TimeSpan.FromSeconds(30));
        }

        loop.RunOnce(TimeSpan.Zero);
        Assert.Single(calls);
        Assert.True(regA.IsDisposed && regB.IsDisposed);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Update_ChangesInterest_AndNoneParks()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        var events = new List<IoEvents>();
        using IoRegistration reg = loop.Register(pair.Left, IoEvents.Write, (_, ev) => events.Add(ev));
        loop.RunOnce(TimeSpan.FromSeconds(30));
        Assert.Equal([IoEvents.Write], events);

        reg.Update(IoEvents.None);
        Assert.Equal(1, loop.Statistics.Registrations); // parked, still registered
        loop.RunOnce(TimeSpan.Zero);
        Assert.Single(events);

        pair.Right.Send("z"u8);
        reg.Update(IoEvents.Read);
        loop.RunOnce(TimeSpan.FromSeconds(30));
        Assert.Equal([IoEvents.Write, IoEvents.Read], events);
        Assert.Equal(IoEvents.Read, reg.Events);
    }

    [Fact]
    public void HangUp_ArrivesAsReadiness_CallbackReadSeesEndOfStream()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        int received = -1;
        using IoRegistration reg = loop.Register(pair.Left, IoEvents.Read, (r, _) =>
        {
            received = pair.Left.Receive(new byte[8], SocketFlags.None, out SocketError _);
            r.Dispose();
        });
        pair.Right.Shutdown(SocketShutdown.Both);
        pair.Right.Close();
        while (received < 0)
        {
            loop.RunOnce(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, received);
    }

    [Fact]
    public void Dispose_IsIdempotent_AndSocketClosesWithoutHanging()
    {
        using var loop = new Loop();
        var pair = new SocketPair();
        IoRegistration reg = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        pair.Dispose(); // closing first must not hang
        pair.Right.Dispose();
        reg.Dispose();
        reg.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reg.Update(IoEvents.Write));
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Register_SameDescriptorTwice_Throws()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        using IoRegistration reg = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        Assert.Throws<InvalidOperationException>(() => loop.Register(pair.Left, IoEvents.Write, (_, _) => { }));
    }
}
