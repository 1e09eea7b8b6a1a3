using System.Net;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

/// <summary>
/// Kill, FailAfter and MoveOnAfter reach loop waits that a library starts on a greenlet's behalf
/// (HttpClient over <see cref="LoopHttp"/>, a StreamReader over <see cref="StreamConnection.AsStream"/>),
/// with no token passed: the greenlet flows with the ExecutionContext.
/// </summary>
public sealed class KillReachesLibraryWaitsTests
{
    private static readonly TimeSpan s_liveness = TimeSpan.FromSeconds(20);

    [Fact]
    public void Kill_GreenletInsideHttpClientGetAsync_EndsItAsKilled()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using var http = new HttpClient(CreateHandler(loop));
            Greenlet g = loop.Spawn(async () => await http.GetAsync(server.Url));
            await server.WaitForRequestAsync();

            g.Kill();
            await g.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_liveness);

            Assert.True(g.IsCompleted);
            Assert.False(g.Succeeded);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        });
    }

    [Fact]
    public void FailAfter_AroundHttpClientGetAsync_ThrowsTheScopesTimeout()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using var http = new HttpClient(CreateHandler(loop));
            TimeSpan started = loop.Now;
            CancelScope? scope = null;
            var error = await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                // A deadline that passes while HttpClient still sets up its first connection (a
                // cold process: its connection task runs outside the greenlet's flow) ends the
                // greenlet as killed instead; one second leaves room for that.
                using (scope = loop.FailAfter(TimeSpan.FromSeconds(1)))
                {
                    await http.GetAsync(server.Url);
                }
            });

            Assert.Same(scope, error.Scope);
            Assert.True(loop.Now - started >= TimeSpan.FromSeconds(1));
        });
    }

    [Fact]
    public void MoveOnAfter_AroundHttpClientGetAsync_MovesOn()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using var http = new HttpClient(CreateHandler(loop));
            bool done = await loop.MoveOnAfter(TimeSpan.FromMilliseconds(200), () => http.GetAsync(server.Url));
            Assert.False(done);

            // The greenlet carries on and its later loop waits work.
            await loop.Sleep(TimeSpan.FromMilliseconds(1));
        });
    }

    [Fact]
    public void PoolKillAll_WithGreenletsInsideHttpClient_LeavesNoneAlive()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using var http = new HttpClient(CreateHandler(loop));
            var pool = new GreenletPool(loop, 10);
            var crawlers = new List<Greenlet>();
            for (int i = 0; i < 10; i++)
            {
                crawlers.Add(pool.Spawn(() => loop.MoveOnAfter(TimeSpan.FromSeconds(30), () => http.GetAsync(server.Url))));
            }

            await server.WaitForRequestsAsync(10);
            Assert.True(await pool.KillAllAsync(s_liveness));

            Assert.All(crawlers, g => Assert.True(g.IsCompleted && !g.Succeeded));
        });
    }

    [Fact]
    public void Kill_GreenletInsideStreamReaderReadLine_EndsItAsKilled()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            using var reader = new StreamReader(connection.AsStream(), Encoding.UTF8, leaveOpen: true);
            Greenlet g = loop.Spawn(async () => await reader.ReadLineAsync());
            await loop.Yield();
            await loop.Yield();

            g.Kill();
            await g.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_liveness);

            Assert.False(g.Succeeded);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
        });
    }

    [Fact]
    public void FailAfter_AroundStreamReaderReadLine_ThrowsTheScopesTimeout()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            using var reader = new StreamReader(connection.AsStream(), Encoding.UTF8, leaveOpen: true);
            await Assert.ThrowsAsync<LoopTimeoutException>(async () =>
            {
                using (loop.FailAfter(TimeSpan.FromMilliseconds(100)))
                {
                    await reader.ReadLineAsync();
                }
            });
        });
    }

    [Fact]
    public void MoveOnAfter_AroundStreamReaderReadLine_MovesOn()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            using var reader = new StreamReader(connection.AsStream(), Encoding.UTF8, leaveOpen: true);
            Assert.False(await loop.MoveOnAfter(TimeSpan.FromMilliseconds(100), () => reader.ReadLineAsync()));
        });
    }

    [Fact]
    public void Kill_GreenletReadingThroughAThreadPoolHop_AbortsTheRead()
    {
        using Loop loop = LoopNet.Create();
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            (Greenlet g, Task<int> read) = await SpawnReadingThroughAThreadPoolHopAsync(loop, connection.AsStream());

            g.Kill();
            await g.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_liveness);
            Exception? readError = await Record.ExceptionAsync(() => read.WaitAsync(s_liveness));

            Assert.False(g.Succeeded);
            Assert.IsAssignableFrom<OperationCanceledException>(readError);
        });
    }

    [Fact]
    public void Kill_GreenletReadingThroughAThreadPoolHop_NotTrackedAcrossThreads_EndsItAsKilledAndTheReadGoesOn()
    {
        using var loop = new Loop(new LoopOptions { TrackGreenletsAcrossThreads = false });
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            (Greenlet g, Task<int> read) = await SpawnReadingThroughAThreadPoolHopAsync(loop, connection.AsStream());

            g.Kill(); // the read is nobody's wait: the greenlet is detached from it
            await g.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_liveness);

            Assert.True(g.IsKilled);
            Assert.False(read.IsCompleted);
            connection.Dispose(); // the read ends with its connection
            Exception? readError = await Record.ExceptionAsync(() => read.WaitAsync(s_liveness));
            Assert.IsType<ObjectDisposedException>(readError);
        });
    }

    [Fact]
    public void Kill_NotTrackedAcrossThreads_StillAbortsTheWaitsTheBodyStartsOnTheLoop()
    {
        using var loop = new Loop(new LoopOptions { TrackGreenletsAcrossThreads = false });
        LoopNet.Run(loop, async () =>
        {
            await using SilentServer server = SilentServer.Start(loop);
            using StreamConnection connection = await loop.ConnectAsync(server.EndPoint);
            Greenlet g = loop.Spawn(async () => await connection.AsStream().ReadAsync(new byte[16]));
            await loop.Yield();

            g.Kill();
            await g.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(s_liveness);

            Assert.True(g.IsKilled);
            Assert.IsAssignableFrom<OperationCanceledException>(g.Exception);
            ValueTask<int> again = connection.ReceiveAsync(new byte[16]); // the aborted read left no receive in flight
            Assert.False(again.IsCompleted);
            connection.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await again);
        });
    }

    /// <summary>
    /// Spawns a greenlet that reads <paramref name="stream"/> from a thread-pool thread (the stream
    /// posts the read to the loop) and awaits it; returns once the read waits on the loop.
    /// </summary>
    private static async Task<(Greenlet Greenlet, Task<int> Read)> SpawnReadingThroughAThreadPoolHopAsync(Loop loop, Stream stream)
    {
        var readStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int>? read = null;
        Greenlet g = loop.Spawn(async () =>
        {
            read = Task.Run(() =>
            {
                Task<int> r = stream.ReadAsync(new byte[16], 0, 16);
                readStarted.SetResult();
                return r;
            });
            await read;
        });
        await readStarted.Task.WaitAsync(s_liveness);
        await loop.Yield();
        return (g, read!);
    }

    private static SocketsHttpHandler CreateHandler(Loop loop)
    {
        SocketsHttpHandler handler = LoopHttp.CreateHandler(loop);
        handler.UseProxy = false;
        return handler;
    }

    /// <summary>A loopback server on the loop that accepts, reads what it is sent, and never answers.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly Loop _loop;
        private readonly StreamServer _server;
        private readonly LoopEvent _changed;
        private int _requests;

        private SilentServer(Loop loop)
        {
            _loop = loop;
            _changed = new LoopEvent(loop);
            _server = new StreamServer(loop, LoopNet.AnyPort, async (c, ct) =>
            {
                byte[] buffer = new byte[4096];
                bool counted = false;
                while (await c.ReceiveAsync(buffer, ct) > 0)
                {
                    if (!counted)
                    {
                        counted = true;
                        _requests++;
                        _changed.Set();
                    }
                }
            });
        }

        public IPEndPoint EndPoint => (IPEndPoint)_server.LocalEndPoint;

        public Uri Url => new($"http://127.0.0.1:{EndPoint.Port}/slow");

        public static SilentServer Start(Loop loop)
        {
            var server = new SilentServer(loop);
            server._server.Start();
            return server;
        }

        public Task WaitForRequestAsync() => WaitForRequestsAsync(1);

        public async Task WaitForRequestsAsync(int count)
        {
            while (_requests < count)
            {
                _changed.Clear();
                await _changed.WaitAsync();
            }
        }

        public async ValueTask DisposeAsync() => await _server.StopAsync(TimeSpan.Zero);
    }
}
