using System.Net.Sockets;
using EventLoop.Interop;
using EventLoop.Tests.Core;
using EventLoop.Tests.Extending;
using Microsoft.Win32.SafeHandles;

namespace EventLoop.Tests.Polling;

/// <summary>
/// <see cref="IoRegistration"/> at the corners a Python <c>selectors</c> or libuv <c>uv_poll</c>
/// user takes for granted, on whichever back end the pass selects (EVENTLOOP_POLLER). The class
/// reuses descriptor numbers and counts descriptors, so it runs with nothing else in parallel.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class RegistrationEdgeCaseTests
{
    // Only a bound on a hang: every wait here ends as soon as loopback data or a hang-up arrives.
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public void Register_SameDescriptorWhileTheFirstIsParked_Throws()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        using IoRegistration parked = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        parked.Update(IoEvents.None);
        using IoRegistration registeredParked = loop.Register(pair.Right, IoEvents.None, (_, _) => { });

        Assert.Throws<InvalidOperationException>(() => loop.Register(pair.Left, IoEvents.Write, (_, _) => { }));
        Assert.Throws<InvalidOperationException>(() => loop.Register(pair.Right, IoEvents.Read, (_, _) => { }));
        parked.Update(IoEvents.Write); // still the descriptor's one registration
        Assert.Equal(IoEvents.Write, parked.Events);
    }

    [Fact]
    public void Update_FlagsOtherThanReadAndWrite_Throws()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });

        Assert.Throws<ArgumentOutOfRangeException>(() => registration.Update(IoEvents.Read | (IoEvents)4));
        Assert.Equal(IoEvents.Read, registration.Events);
    }

    [Fact]
    public void Update_AfterTheSocketWasClosedAndItsNumberReused_ThrowsAndLeavesTheNewRegistrationAlone()
    {
        using var loop = new Loop();
        using var old = new SocketPair();
        IoRegistration stale = loop.Register(old.Left, IoEvents.Read, (_, _) => Assert.Fail("closed socket reported"));
        int number = stale.Descriptor;
        old.Left.Dispose(); // closed without unregistering first
        (Socket reused, Socket peer) = ConnectedPairReusing(number);
        using Socket disposeReused = reused, disposePeer = peer;
        int calls = 0;
        using IoRegistration current = loop.Register(reused, IoEvents.Read, (_, _) => calls++);

        Assert.Throws<ObjectDisposedException>(() => stale.Update(IoEvents.Write));
        Assert.True(stale.IsDisposed);
        stale.Dispose();
        peer.Send("x"u8);
        for (int i = 0; i < 3 && calls == 0; i++)
        {
            loop.RunOnce(s_liveness);
        }

        Assert.Equal(1, calls);
        current.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Update_AfterTheSocketWasClosed_ThrowsObjectDisposed()
    {
        using var loop = new Loop();
        var pair = new SocketPair();
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => { });
        pair.Dispose(); // closed without unregistering first

        Assert.Throws<ObjectDisposedException>(() => registration.Update(IoEvents.Write));
        Assert.True(registration.IsDisposed);
        registration.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Register_FromAnotherThreadWhileTheLoopRuns_ThrowsInvalidOperation()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        Exception? error = null;
        loop.Post(() =>
        {
            var other = new Thread(() => error = Record.Exception(() => loop.Register(pair.Left, IoEvents.Read, (_, _) => { })));
            other.Start();
            other.Join();
        });
        loop.RunOnce(TimeSpan.Zero);
        Assert.IsType<InvalidOperationException>(error);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Callback_Throws_ReachesTheHandlerAndTheRegistrationIsCalledAgain()
    {
        var errors = new List<Exception>();
        using var loop = new Loop(new LoopOptions { UnhandledException = errors.Add });
        using var pair = new SocketPair();
        pair.Right.Send("x"u8);
        int calls = 0;
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) =>
        {
            calls++;
            throw new InvalidDataException("boom " + calls);
        });

        loop.RunOnce(s_liveness);
        loop.RunOnce(s_liveness); // level-triggered: the undrained byte is reported again
        Assert.Equal(2, calls);
        Assert.Equal(["boom 1", "boom 2"], errors.Select(e => e.Message));
        Assert.False(registration.IsDisposed);
    }

    [Fact]
    public void Dispose_InsideItsOwnCallbackWithBothDirectionsReady_NoFurtherCallback()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        pair.Right.Send("x"u8);
        var seen = new List<IoEvents>();
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read | IoEvents.Write, (self, events) =>
        {
            seen.Add(events);
            self.Dispose();
        });

        loop.RunOnce(s_liveness);
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Single(seen);
        Assert.True(registration.IsDisposed);
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Callback_ReRegistersItsOwnDescriptor_TheNewRegistrationIsReported()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        pair.Right.Send("x"u8);
        IoRegistration? second = null;
        int secondCalls = 0;
        using IoRegistration first = loop.Register(pair.Left, IoEvents.Read, (self, _) =>
        {
            self.Dispose();
            second = loop.Register(pair.Left, IoEvents.Read, (_, _) => secondCalls++);
        });

        loop.RunOnce(s_liveness);
        loop.RunOnce(s_liveness);
        Assert.Equal(1, secondCalls);
        second!.Dispose();
        LoopAssert.NoLiveHandles(loop);
    }

    [Fact]
    public void Update_None_StaysRegisteredWithoutCallbacks()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        pair.Right.Send("x"u8);
        int calls = 0;
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.None, (_, _) => calls++);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(0, calls);
        Assert.False(registration.IsDisposed);
        registration.Update(IoEvents.Read);
        loop.RunOnce(s_liveness);
        Assert.Equal(1, calls);
        registration.Update(IoEvents.None);
        pair.Right.Shutdown(SocketShutdown.Both); // a hang-up is not reported to a parked registration either
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData(IoEvents.Read)]
    [InlineData(IoEvents.Write)]
    [InlineData(IoEvents.Read | IoEvents.Write)]
    public void PeerReset_ReportsTheRegisteredDirections(IoEvents interest)
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        pair.Left.Send(new byte[16]); // unread by the peer, whose close (linger 0) sends RST
        var seen = new List<IoEvents>();
        SocketError error = SocketError.Success;
        using IoRegistration registration = loop.Register(pair.Left, interest, (self, events) =>
        {
            seen.Add(events);
            if ((interest & IoEvents.Write) != 0)
            {
                _ = pair.Left.Send(new byte[1], SocketFlags.None, out error);
            }

            if (error is SocketError.Success)
            {
                _ = pair.Left.Receive(new byte[16], SocketFlags.None, out error);
            }

            if (error is not (SocketError.Success or SocketError.WouldBlock))
            {
                self.Dispose();
            }
        });
        pair.Right.LingerState = new LingerOption(true, 0);
        pair.Right.Close();
        for (int i = 0; i < 1000 && !registration.IsDisposed; i++)
        {
            loop.RunOnce(s_liveness);
        }

        Assert.True(registration.IsDisposed);
        Assert.Equal(SocketError.ConnectionReset, error);
        Assert.All(seen, e => Assert.Equal(interest, e));
    }

    [Fact]
    public void WriteInterest_ReportedEveryIterationUntilUpdatedToRead()
    {
        using var loop = new Loop();
        using var pair = new SocketPair();
        int calls = 0;
        using IoRegistration registration = loop.Register(pair.Left, IoEvents.Write, (_, _) => calls++);
        for (int i = 0; i < 5; i++)
        {
            loop.RunOnce(s_liveness);
        }

        Assert.Equal(5, calls);
        registration.Update(IoEvents.Read);
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(5, calls);
    }

    [Fact]
    public void Register_PipeAndEventFdThroughSafeHandles_Reported()
    {
        using var loop = new Loop();
        (SafeFileHandle read, SafeFileHandle write) = TestPipe.Create();
        using var eventFd = new SafeFileHandle(Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC), ownsHandle: true);
        Assert.False(eventFd.IsInvalid);
        var seen = new List<string>();
        using IoRegistration pipe = loop.Register(read, IoEvents.Read, (_, e) => seen.Add("pipe " + e));
        using IoRegistration counter = loop.Register(eventFd, IoEvents.Read, (_, e) => seen.Add("eventfd " + e));
        TestPipe.Write(write, "x"u8);
        TestPipe.Write(eventFd, BitConverter.GetBytes(1UL));
        loop.RunOnce(s_liveness);
        if (seen.Count < 2)
        {
            loop.RunOnce(s_liveness);
        }

        Assert.Equal(["eventfd Read", "pipe Read"], seen.Order());
        read.Dispose();
        write.Dispose();
    }

    [Fact]
    public void LoopDispose_WithLiveAndParkedRegistrations_ReleasesThemButLeavesTheDescriptorsOpen()
    {
        using var pair = new SocketPair();
        DescriptorSnapshot before = DescriptorSnapshot.Take();
        var loop = new Loop();
        pair.Right.Send("x"u8);
        int calls = 0;
        IoRegistration registration = loop.Register(pair.Left, IoEvents.Read, (_, _) => calls++);
        IoRegistration parked = loop.Register(pair.Right, IoEvents.None, (_, _) => calls++);
        Assert.Equal(2, loop.Statistics.Registrations); // a parked registration counts too
        loop.Dispose();

        Assert.True(registration.IsDisposed);
        Assert.True(parked.IsDisposed);
        Assert.Equal(0, calls);
        Assert.Equal(0, loop.Statistics.Registrations);
        registration.Dispose();
        Assert.Throws<ObjectDisposedException>(() => parked.Update(IoEvents.Read));
        Assert.Throws<ObjectDisposedException>(() => loop.Register(pair.Left, IoEvents.Read, (_, _) => calls++));
        Assert.Equal(1, pair.Left.Receive(new byte[4])); // the caller's socket still works
        Assert.Equal(1, pair.Right.Send("y"u8));
        before.AssertOpenedSince(0); // the loop's own descriptors are closed
    }

    /// <summary>A connected loopback pair whose first socket has descriptor <paramref name="number"/>, which is free.</summary>
    private static (Socket Socket, Socket Peer) ConnectedPairReusing(int number)
    {
        // A new descriptor takes the lowest free number: fill the holes below it first (nothing
        // else runs in this collection to take it meanwhile).
        var fillers = new List<Socket>();
        try
        {
            while (true)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                int fd = (int)socket.SafeHandle.DangerousGetHandle();
                if (fd == number)
                {
                    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
                    listener.Listen(1);
                    socket.Connect(listener.LocalEndPoint!);
                    Socket peer = listener.Accept();
                    socket.Blocking = false;
                    return (socket, peer);
                }

                fillers.Add(socket);
                Assert.True(fd < number, $"descriptor {number} was taken by someone else");
            }
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }
}
