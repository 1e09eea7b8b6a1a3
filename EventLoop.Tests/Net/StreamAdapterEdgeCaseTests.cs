using System.Net;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// The <see cref="Stream"/> from <see cref="StreamConnection.AsStream"/> against what a .NET user
/// takes for granted of one (<c>NetworkStream</c> is the reference): failures, empty buffers,
/// cancellation, capabilities, dispose, and use from the thread pool; and the listener's
/// argument checks.
/// </summary>
public sealed class StreamAdapterEdgeCaseTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public void ReadAsyncAndWriteAsync_PeerReset_ThrowIOExceptionWithTheSocketErrorInside()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using Socket server = ListenOutsideTheLoop();
            Task<Socket> accept = server.AcceptAsync();
            using StreamConnection connection = await loop.ConnectAsync(server.LocalEndPoint!);
            using Socket peer = await accept;
            Stream stream = connection.AsStream();

            // A read waiting on the loop when the reset arrives, then one started off the loop after it.
            ValueTask<int> waiting = stream.ReadAsync(new byte[8]);
            Assert.False(waiting.IsCompleted);
            Reset(peer);
            IOException read = await Assert.ThrowsAsync<IOException>(async () => await waiting);
            Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(read.InnerException).SocketErrorCode);

            // On io_uring a small write is copied to the ring and its failure is thrown by a later one.
            Exception? offLoop = await Task.Run(() => WriteUntilItFailsAsync(stream, () => Task.CompletedTask));
            Assert.IsType<SocketException>(Assert.IsType<IOException>(offLoop).InnerException);
            Exception? onLoop = await WriteUntilItFailsAsync(stream, async () => await loop.Yield());
            Assert.IsType<SocketException>(Assert.IsType<IOException>(onLoop).InnerException);
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void HttpClient_ServerResetsTheConnection_ThrowsHttpRequestException()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            using Socket server = ListenOutsideTheLoop();
            Task resetAfterRequest = Task.Run(async () =>
            {
                using Socket peer = await server.AcceptAsync();
                Assert.NotEqual(0, await peer.ReceiveAsync(new byte[4096]));
                Reset(peer);
            });
            int port = ((IPEndPoint)server.LocalEndPoint!).Port;
            SocketsHttpHandler handler = LoopHttp.CreateHandler(loop);
            handler.UseProxy = false;
            using var client = new HttpClient(handler);

            // HttpClient wraps a stream's IOException in HttpRequestException, and lets anything else through.
            HttpRequestException error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri($"http://127.0.0.1:{port}/")));
            Assert.IsType<IOException>(error.InnerException);
            await resetAfterRequest;
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ReadAsync_EmptyBuffer_WaitsForDataAndTakesNone_WriteAsyncEmpty_Completes()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream reader = accepted.AsStream();
            Stream writer = client.AsStream();
            ValueTask<int> wait = reader.ReadAsync(Memory<byte>.Empty);
            Assert.False(wait.IsCompleted);
            await writer.WriteAsync(ReadOnlyMemory<byte>.Empty);
            await Task.Run(async () => await writer.WriteAsync(Array.Empty<byte>(), 0, 0));
            Assert.False(wait.IsCompleted);
            await writer.WriteAsync("abc"u8.ToArray());
            Assert.Equal(0, await wait);
            byte[] buffer = new byte[8];
            Assert.Equal(3, await reader.ReadAsync(buffer));
        });
    }

    [Fact]
    public void ReadAsyncAndWriteAsync_TokenAlreadyCanceled_TakeNothingAndSendNothing_OnAndOffTheLoop()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream stream = accepted.AsStream();
            using var canceled = new CancellationTokenSource();
            canceled.Cancel();
            await client.SendAsync("abc"u8.ToArray());

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(new byte[8], canceled.Token).AsTask());
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.WriteAsync(new byte[8], canceled.Token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.FlushAsync(canceled.Token));
            Assert.IsAssignableFrom<OperationCanceledException>(
                await Task.Run(() => Record.ExceptionAsync(() => stream.ReadAsync(new byte[8], canceled.Token).AsTask())));
            Assert.IsAssignableFrom<OperationCanceledException>(
                await Task.Run(() => Record.ExceptionAsync(async () => await stream.WriteAsync(new byte[8], canceled.Token))));

            byte[] buffer = new byte[8];
            Assert.Equal(3, await stream.ReadAsync(buffer));
            stream.Dispose();
            Assert.Equal(0, await client.ReceiveAsync(buffer)); // nothing was sent before the FIN
        });
    }

    [Fact]
    public void Dispose_DisposesTheConnection_CapabilitiesTurnOff_LaterCallsThrowObjectDisposed()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream stream = client.AsStream();
            Assert.True(stream.CanRead && stream.CanWrite);
            Assert.False(stream.CanSeek);
            Assert.Throws<NotSupportedException>(() => stream.Length);
            Assert.Throws<NotSupportedException>(() => stream.Position);
            Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
            Assert.Throws<NotSupportedException>(() => stream.SetLength(0));

            await stream.DisposeAsync();
            Assert.True(client.IsDisposed);
            Assert.False(stream.CanRead || stream.CanWrite || stream.CanSeek);
            Assert.Equal(0, await accepted.ReceiveAsync(new byte[1]));
            await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(new byte[1]).AsTask());
            await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.WriteAsync(new byte[1], 0, 1));
            Assert.IsType<ObjectDisposedException>(await Task.Run(() => Record.ExceptionAsync(() => stream.ReadAsync(new byte[1]).AsTask())));
            Assert.IsType<ObjectDisposedException>(await Task.Run(() => Record.Exception(() => stream.WriteByte(1))));
        });
    }

    [Fact]
    public void CopyToAsync_BetweenTwoLoopStreams_CopiesEverything()
    {
        const int size = (3 * 1024 * 1024) + 7;
        byte[] data = new byte[size];
        new Random(5).NextBytes(data);
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            (StreamConnection c1, StreamConnection a1, StreamListener l1) = await LoopNet.ConnectAsync(loop);
            (StreamConnection c2, StreamConnection a2, StreamListener l2) = await LoopNet.ConnectAsync(loop);
            using (l1)
            using (l2)
            using (c1)
            using (a1)
            using (c2)
            using (a2)
            {
                Greenlet copy = loop.Spawn(async () =>
                {
                    await a1.AsStream().CopyToAsync(c2.AsStream());
                    c2.ShutdownSend();
                });
                Greenlet send = loop.Spawn(async () =>
                {
                    await c1.AsStream().WriteAsync(data);
                    c1.ShutdownSend();
                });
                Assert.Equal(data, await a2.ReceiveToEndAsync());
                await copy;
                await send;
            }
        });
        LoopNet.AssertNoRegistrations(loop);
    }

    [Fact]
    public void ThreadPool_OneReadAndOneWriteAtOnce_WhileTheLoopRuns()
    {
        byte[] payload = new byte[2 * 1024 * 1024];
        new Random(3).NextBytes(payload);
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream stream = client.AsStream();
            Greenlet echo = loop.Spawn(() => LoopNet.EchoAsync(accepted));
            byte[] echoed = new byte[payload.Length];
            Task writer = Task.Run(async () =>
            {
                for (int i = 0; i < payload.Length; i += 10_000)
                {
                    await stream.WriteAsync(payload.AsMemory(i, Math.Min(10_000, payload.Length - i)));
                }
            });
            Task reader = Task.Run(async () => await stream.ReadExactlyAsync(echoed));
            await Task.WhenAll(writer, reader);
            Assert.Equal(payload, echoed);
            client.ShutdownSend();
            await echo;
        });
    }

    [Fact]
    public void ReadAsync_FromTheThreadPool_WaitingWhenTheLoopIsDisposed_ThrowsObjectDisposed()
    {
        using Loop loop = LoopNet.Create();
        (StreamConnection client, StreamConnection accepted, StreamListener listener) = LoopNet.Run(loop, () => LoopNet.ConnectAsync(loop));
        Stream stream = accepted.AsStream();
        Thread runner = LoopNet.RunOnAnotherThread(loop);

        // The read is posted to the loop, then a probe behind it from the same thread (the inbox
        // is FIFO): once the probe has run, the read was started and waits for data that never comes.
        Task<int>? read = null;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task.Run(() =>
        {
            read = stream.ReadAsync(new byte[8]).AsTask();
            loop.Post(started.SetResult);
        }).WaitAsync(s_liveness).GetAwaiter().GetResult();
        started.Task.WaitAsync(s_liveness).GetAwaiter().GetResult();
        Assert.False(read!.IsCompleted);

        loop.Stop();
        Assert.True(runner.Join(s_liveness));
        loop.Dispose();

        Exception? error = Record.Exception(() => read.WaitAsync(s_liveness).GetAwaiter().GetResult());
        Assert.IsType<ObjectDisposedException>(error);
        Assert.True(accepted.IsDisposed && client.IsDisposed);
        listener.Dispose();
    }

    [Fact]
    public void ReadAsync_FromTheThreadPoolForAGreenlet_WaitingWhenTheLoopIsDisposed_EndsWithTheGreenletsKill()
    {
        using Loop loop = LoopNet.Create();
        (StreamConnection client, StreamConnection accepted, StreamListener listener) = LoopNet.Run(loop, () => LoopNet.ConnectAsync(loop));
        Stream stream = accepted.AsStream();

        // The thread pool works for the greenlet (its ExecutionContext flows), so the read waits
        // as the greenlet's: Dispose's kill ends it with the kill, before the loop's disposal would.
        Task<int>? read = null;
        Greenlet? reader = null;
        LoopNet.Run(loop, async () =>
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            reader = loop.Spawn(async () =>
            {
                await Task.Run(() =>
                {
                    read = stream.ReadAsync(new byte[8]).AsTask();
                    loop.Post(started.SetResult);
                });
                await read!;
            });
            await started.Task;
        });
        Assert.False(read!.IsCompleted);
        loop.Dispose();

        // The read ends with the kill of its greenlet (not the disposal). The greenlet itself may
        // end with that exception, or, when the loop's detach check comes before the read's
        // failure reaches it from the thread pool, as killed in a foreign await: both are kills.
        Exception? error = Record.Exception(() => read.WaitAsync(s_liveness).GetAwaiter().GetResult());
        OperationCanceledException kill = Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal($"Greenlet {reader!.Name} was killed.", kill.Message);
        Assert.True(reader.IsKilled);
        Assert.IsAssignableFrom<OperationCanceledException>(reader.Exception);
        Assert.True(accepted.IsDisposed && client.IsDisposed);
        listener.Dispose();
    }

    [Fact]
    public void ReadAsyncAndWriteAsync_FromTheThreadPool_PostedToAnIdleLoopThenDisposed_ThrowObjectDisposed()
    {
        using Loop loop = LoopNet.Create();
        (StreamConnection client, StreamConnection accepted, StreamListener listener) = LoopNet.Run(loop, () => LoopNet.ConnectAsync(loop));
        Stream stream = accepted.AsStream();

        // Nobody runs the loop: both starts wait in its inbox, and Dispose comes before any iteration.
        Task<int>? read = null;
        Task? write = null;
        Task.Run(() =>
        {
            read = stream.ReadAsync(new byte[8]).AsTask();
            write = stream.WriteAsync(new byte[8]).AsTask();
        }).WaitAsync(s_liveness).GetAwaiter().GetResult();
        Assert.False(read!.IsCompleted || write!.IsCompleted);
        loop.Dispose();

        Assert.IsType<ObjectDisposedException>(Record.Exception(() => read.WaitAsync(s_liveness).GetAwaiter().GetResult()));
        Assert.IsType<ObjectDisposedException>(Record.Exception(() => write!.WaitAsync(s_liveness).GetAwaiter().GetResult()));
        Assert.True(accepted.IsDisposed && client.IsDisposed);
        listener.Dispose();
    }

    [Fact]
    public void EchoFromTheThreadPool_RacingTheLoopsStopAndDispose_EndsWithObjectDisposed()
    {
        // Reads and writes keep being posted while the loop stops, stands idle, is disposed and
        // after: whichever point each one reaches (running, queued, dropped, refused), the caller ends.
        for (int round = 0; round < 30; round++)
        {
            using Loop loop = LoopNet.Create();
            (StreamConnection client, StreamConnection accepted, StreamListener listener) = LoopNet.Run(loop, () => LoopNet.ConnectAsync(loop));
            Stream writer = client.AsStream();
            Stream reader = accepted.AsStream();
            Thread runner = LoopNet.RunOnAnotherThread(loop);
            var echoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task pump = Task.Run(async () =>
            {
                byte[] buffer = new byte[1];
                while (true)
                {
                    await writer.WriteAsync(buffer);
                    await reader.ReadExactlyAsync(buffer);
                    echoed.TrySetResult();
                }
            });
            Assert.Same(echoed.Task, Task.WhenAny(echoed.Task, pump).WaitAsync(s_liveness).GetAwaiter().GetResult());

            loop.Stop();
            Assert.True(runner.Join(s_liveness));
            loop.Dispose();

            Assert.IsType<ObjectDisposedException>(Record.Exception(() => pump.WaitAsync(s_liveness).GetAwaiter().GetResult()));
            listener.Dispose();
        }
    }

    [Fact]
    public void ByteAndApmMembers_ThrowNotSupportedOnTheLoopThreadOrWork()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.RunPair(loop, async (_, client, accepted) =>
        {
            Stream stream = accepted.AsStream();
            Assert.Throws<NotSupportedException>(() => stream.ReadByte());
            Assert.Throws<NotSupportedException>(() => stream.WriteByte(1));

            var read = new TaskCompletionSource<int>();
            byte[] buffer = new byte[8];
            stream.BeginRead(buffer, 0, buffer.Length, ar => read.SetResult(stream.EndRead(ar)), null);
            await client.SendAsync(new byte[] { 42, 43 });
            Assert.Equal(2, await read.Task);
            Assert.Equal(42, buffer[0]);

            await client.SendAsync(new byte[] { 44 });
            Assert.Equal(44, await Task.Run(stream.ReadByte));
            await Task.Run(() => stream.WriteByte(7));
            Assert.Equal(1, await client.ReceiveAsync(buffer));
            Assert.Equal(7, buffer[0]);
            client.ShutdownSend();
            Assert.Equal(-1, await Task.Run(stream.ReadByte));
        });
    }

    [Fact]
    public void WarmEchoThroughTheStream_OnTheLoop_AllocatesNothing()
    {
        using Loop loop = LoopNet.Create();
        using StreamListener listener = loop.Listen(LoopNet.AnyPort);
        using StreamConnection client = LoopNet.Run(loop, () => loop.ConnectAsync(listener.LocalEndPoint));
        Greenlet server = loop.Spawn(async () =>
        {
            using StreamConnection accepted = await listener.AcceptAsync();
            Stream stream = accepted.AsStream();
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
            }
        });
        LoopNet.AssertWarmRoundTripsAllocateNothing(loop, client);
        client.ShutdownSend();
        LoopNet.Run(loop, async () => await server);
    }

    [Fact]
    public void Listen_BacklogNotPositive_ThrowsNamingTheBacklog()
    {
        using Loop loop = LoopNet.Create();
        Assert.Equal("backlog", Assert.Throws<ArgumentOutOfRangeException>(() => loop.Listen(LoopNet.AnyPort, 0)).ParamName);
        Assert.Equal("backlog", Assert.Throws<ArgumentOutOfRangeException>(() => loop.Listen(LoopNet.AnyPort, -1)).ParamName);
        ArgumentOutOfRangeException options = Assert.Throws<ArgumentOutOfRangeException>(() => loop.Listen(LoopNet.AnyPort, new ListenOptions { Backlog = 0 }));
        Assert.Equal("options", options.ParamName);
        Assert.Contains("Backlog", options.Message, StringComparison.Ordinal);
        LoopNet.AssertNoRegistrations(loop);
    }

    private static async Task<Exception?> WriteUntilItFailsAsync(Stream stream, Func<Task> between)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                await stream.WriteAsync(new byte[8]);
            }
            catch (Exception ex)
            {
                return ex;
            }

            await between();
        }

        return null;
    }

    private static Socket ListenOutsideTheLoop()
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(LoopNet.AnyPort);
        server.Listen();
        return server;
    }

    // SO_LINGER with a zero timeout: close sends RST instead of FIN.
    private static void Reset(Socket peer)
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
    }
}
