using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Samples.Echo;

/// <summary>
/// The echo benchmark's client: one greenlet per connection, each sending its share of requests one
/// after another and checking every echo byte for byte. Connecting and each request run under a
/// <see cref="Loop.FailAfter"/> deadline of <see cref="EchoClientOptions.Timeout"/>, so a silent
/// server fails the requests it leaves unanswered instead of holding the run.
/// </summary>
public static class EchoClient
{
    /// <summary>Runs the requests and reports what happened. Loop thread, inside a greenlet.</summary>
    /// <param name="loop">The running loop.</param>
    /// <param name="options">What to do.</param>
    /// <param name="output">Where <c>Received[i]</c> lines go when not quiet.</param>
    /// <param name="progress">Called on the loop thread with the count of finished requests, at most every 200 ms; null for none.</param>
    /// <returns>The statistics; failures (a refused connection, a reply not in time, a wrong echo) are counted, not thrown.</returns>
    public static async Task<EchoStats> RunAsync(Loop loop, EchoClientOptions options, TextWriter output, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Requests);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Connections);
        if (options.Timeout <= TimeSpan.Zero && options.Timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Timeout, "Timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }

        var run = new Run(options, output);
        int connections = Math.Min(options.Connections, Math.Max(options.Requests, 1));
        long start = Stopwatch.GetTimestamp();
        var greenlets = new Greenlet[connections];
        for (int c = 0; c < connections; c++)
        {
            (int first, int count) = ConnectionPlan.Share(options.Requests, connections, c);
            greenlets[c] = loop.Spawn(ct => run.ConnectionAsync(loop, first, count, ct));
        }

        Greenlet? reporter = progress is null ? null : loop.Spawn(async ct =>
        {
            while (true)
            {
                await loop.Sleep(TimeSpan.FromMilliseconds(200), ct);
                progress(run.Finished);
            }
        });

        try
        {
            // Every wait of a connection is bounded by options.Timeout, so each greenlet ends by itself.
            await loop.JoinAllAsync(greenlets);
        }
        finally
        {
            // Killed (a demo part out of time): the connections go with the caller.
            reporter?.Kill();
            foreach (Greenlet greenlet in greenlets)
            {
                greenlet.Kill();
            }
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        TimeSpan[] percentiles = run.Latencies.Percentiles(50, 99);
        return new EchoStats(options.Requests, run.Succeeded, run.Errors, connections, elapsed, percentiles[0], percentiles[1], run.FirstError);
    }

    /// <summary>Shared state of one run; greenlets all run on the loop thread, so no locking.</summary>
    private sealed class Run(EchoClientOptions options, TextWriter output)
    {
        private readonly byte[] _message = Encoding.UTF8.GetBytes(options.Message);

        public LatencyRecorder Latencies { get; } = new(options.Requests);

        public int Succeeded { get; private set; }

        public int Errors { get; private set; }

        public int Finished => Succeeded + Errors;

        public string? FirstError { get; private set; }

        public void Fail(int requests, string reason)
        {
            if (requests <= 0)
            {
                return;
            }

            Errors += requests;
            FirstError ??= reason;
        }

        public async Task ConnectionAsync(Loop loop, int first, int count, CancellationToken cancellationToken)
        {
            if (count == 0)
            {
                return;
            }

            int done = 0;
            StreamConnection? connection = null;
            CancelScope? deadline = null;
            try
            {
                using (deadline = loop.FailAfter(options.Timeout))
                {
                    connection = await loop.ConnectAsync(options.EndPoint, cancellationToken);
                }

                byte[] received = new byte[_message.Length];
                for (; done < count; done++)
                {
                    long sent = Stopwatch.GetTimestamp();
                    using (deadline = loop.FailAfter(options.Timeout))
                    {
                        await connection.SendAsync(_message, cancellationToken);
                        int filled = 0;
                        while (filled < received.Length)
                        {
                            int n = await connection.ReceiveAsync(received.AsMemory(filled), cancellationToken);
                            if (n == 0)
                            {
                                throw new EndOfStreamException("the server closed the connection early");
                            }

                            filled += n;
                        }
                    }

                    Latencies.Record(Stopwatch.GetTimestamp() - sent);
                    if (received.AsSpan().SequenceEqual(_message))
                    {
                        Succeeded++;
                        if (!options.Quiet)
                        {
                            output.WriteLine($"Received[{first + done}]:'{options.Message}'");
                        }
                    }
                    else
                    {
                        Fail(1, $"request {first + done}: echo differs from what was sent");
                    }
                }

                connection.ShutdownSend();
            }
            catch (Exception ex) when (deadline?.IsOwnError(ex) == true)
            {
                // Before the IOException filter: a timeout wrapped by the connection is still this
                // deadline's. The server accepted and is silent, or nobody answered the connect.
                string seconds = options.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                Fail(count - done, $"request {first + done}: {(connection is null ? "no connection" : "no reply")} within {seconds} s");
            }
            catch (Exception ex) when (ex is SocketException or EndOfStreamException or IOException)
            {
                // This request and the rest of this connection's share are lost.
                Fail(count - done, $"request {first + done}: {ex.Message}");
            }
            finally
            {
                connection?.Dispose();
            }
        }
    }
}
