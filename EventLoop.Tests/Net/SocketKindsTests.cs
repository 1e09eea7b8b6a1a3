using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class SocketKindsTests
{
    [Fact]
    public void Listen_UnixDomain_EchoesAndRemovesSocketFileOnDispose()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();
        LoopNet.Run(loop, async () =>
        {
            using (StreamListener listener = loop.Listen(new UnixDomainSocketEndPoint(path)))
            {
                Assert.True(File.Exists(path));
                Greenlet server = loop.Spawn(async () =>
                {
                    using StreamConnection accepted = await listener.AcceptAsync();
                    Assert.False(accepted.NoDelay);
                    await LoopNet.EchoAsync(accepted);
                });

                using StreamConnection client = await loop.ConnectAsync(new UnixDomainSocketEndPoint(path));
                await client.SendAsync("unix"u8.ToArray());
                byte[] reply = new byte[4];
                await client.ReceiveExactlyAsync(reply);
                Assert.Equal("unix"u8.ToArray(), reply);
                client.ShutdownSend();
                await server;
            }

            Assert.False(File.Exists(path));
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void Listen_UnixDomainStaleSocketFile_IsReplaced()
    {
        using Loop loop = LoopNet.Create();
        string path = LoopNet.TempSocketPath();

        // A listener that died without cleaning up leaves its socket file behind.
        Assert.Equal(SocketError.Success, SocketPal.CreateSocket(AddressFamily.Unix, SocketType.Stream, out int stale));
        Assert.Equal(SocketError.Success, SocketPal.Bind(stale, new UnixDomainSocketEndPoint(path)));
        Assert.Equal(SocketError.Success, SocketPal.Close(stale));
        Assert.True(File.Exists(path));

        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(new UnixDomainSocketEndPoint(path));
            using StreamConnection client = await loop.ConnectAsync(new UnixDomainSocketEndPoint(path));
            using StreamConnection accepted = await listener.AcceptAsync();

            // A live listener is not replaced.
            SocketException error = Assert.Throws<SocketException>(() => loop.Listen(new UnixDomainSocketEndPoint(path)));
            Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        });
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void BindDatagram_Udp_RoundTrip()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket server = loop.BindDatagram(LoopNet.AnyPort);
            using DatagramSocket client = loop.BindDatagram(LoopNet.AnyPort);
            Greenlet echo = loop.Spawn(async () =>
            {
                byte[] buffer = new byte[1500];
                for (int i = 0; i < 3; i++)
                {
                    DatagramReceiveResult r = await server.ReceiveFromAsync(buffer);
                    await server.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), r.RemoteEndPoint);
                }
            });

            byte[] reply = new byte[1500];
            for (int i = 0; i < 3; i++)
            {
                byte[] datagram = Encoding.ASCII.GetBytes($"ping {i}");
                Assert.Equal(datagram.Length, await client.SendToAsync(datagram, server.LocalEndPoint));
                DatagramReceiveResult result = await client.ReceiveFromAsync(reply);
                Assert.Equal(datagram, reply.AsSpan(0, result.ReceivedBytes).ToArray());
                Assert.Equal(server.LocalEndPoint, result.RemoteEndPoint);
            }

            await echo;
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void BindDatagram_ReceiveCancelled_ThenReceivesNextDatagram()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using DatagramSocket a = loop.BindDatagram(LoopNet.AnyPort);
            using DatagramSocket b = loop.BindDatagram(LoopNet.AnyPort);
            using var cts = new CancellationTokenSource();
            ValueTask<DatagramReceiveResult> pending = a.ReceiveFromAsync(new byte[16], cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

            await b.SendToAsync("x"u8.ToArray(), a.LocalEndPoint);
            DatagramReceiveResult r = await a.ReceiveFromAsync(new byte[16]);
            Assert.Equal(1, r.ReceivedBytes);
        });
    }

    [Fact]
    public void AsStream_StreamReaderAndWriter_ExchangeLines()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            Greenlet server = loop.Spawn(async () =>
            {
                using StreamConnection accepted = await listener.AcceptAsync();
                using var reader = new StreamReader(accepted.AsStream(), Encoding.UTF8);
                await using var writer = new StreamWriter(accepted.AsStream(), new UTF8Encoding(false)) { AutoFlush = true };
                string? line;
                while ((line = await reader.ReadLineAsync()) is not null)
                {
                    await writer.WriteLineAsync(line.ToUpperInvariant());
                }
            });

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            Stream stream = client.AsStream();
            Assert.Same(stream, client.AsStream());
            using var clientReader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            await using var clientWriter = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };
            await clientWriter.WriteLineAsync("héllo");
            Assert.Equal("HÉLLO", await clientReader.ReadLineAsync());
            await clientWriter.WriteLineAsync("world");
            Assert.Equal("WORLD", await clientReader.ReadLineAsync());
            client.ShutdownSend();
            await server;
        });
    }

    [Fact]
    public void AsStream_PipeReader_ReadsEverything()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            Greenlet writer = loop.Spawn(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    await client.SendAsync(new byte[1000]);
                }

                client.ShutdownSend();
            });

            PipeReader pipe = PipeReader.Create(accepted.AsStream(), new StreamPipeReaderOptions(leaveOpen: true));
            long total = 0;
            while (true)
            {
                ReadResult read = await pipe.ReadAsync();
                total += read.Buffer.Length;
                pipe.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            await pipe.CompleteAsync();
            await writer;
            Assert.Equal(100_000, total);
        });
    }

    [Fact]
    public void AsStream_SynchronousReadOnLoopThread_ThrowsNotSupported_OffLoopWorks()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            using StreamConnection accepted = await listener.AcceptAsync();
            Stream stream = accepted.AsStream();

            Assert.Throws<NotSupportedException>(() => stream.Read(new byte[1], 0, 1));
            Assert.Throws<NotSupportedException>(() => stream.Write(new byte[1], 0, 1));
            stream.Flush();

            // Off the loop thread the same stream marshals onto the loop (sync and async).
            Task<int> offLoopRead = Task.Run(() => stream.Read(new byte[8], 0, 8));
            Task offLoopWrite = Task.Run(() => stream.WriteAsync("pong"u8.ToArray()).AsTask());
            await client.SendAsync("ping"u8.ToArray());
            Assert.Equal(4, await offLoopRead);
            await offLoopWrite;
            byte[] reply = new byte[4];
            await client.ReceiveExactlyAsync(reply);
            Assert.Equal("pong"u8.ToArray(), reply);
        });
    }
}
