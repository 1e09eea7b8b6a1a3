using System.Net.Sockets;
using System.Text;

namespace EventLoop.Tests.Samples.Cache.Faults;

/// <summary>
/// Bad bytes on the wire: each gets Redis's answer (an error reply, then a close where Redis closes),
/// only the offending connection ends, and everyone else keeps being served.
/// </summary>
[Collection(DescriptorCountingCollection.Name)]
public sealed class HostileInputTests
{
    [Fact]
    public void Slowloris_ManyClientsTricklingRequests_OthersServedAndEachRequestCompletes()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            byte[] request = CacheFaultHarness.Ascii("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nvalue\r\n");
            var sockets = await Task.Run(() => Enumerable.Range(0, 100).Select(_ => CacheFaultHarness.ConnectRaw(server.LocalEndPoint)).ToList());
            try
            {
                // One byte per client per round; a normal client is served between rounds.
                for (int i = 0; i < request.Length; i++)
                {
                    int at = i;
                    await Task.Run(() => sockets.ForEach(s => s.Send(request, at, 1, SocketFlags.None)));
                    if (i % 8 == 0)
                    {
                        await CacheFaultHarness.AssertServesAsync(loop, server);
                    }
                }

                string[] replies = await Task.Run(() => sockets.Select(s => CacheFaultHarness.ReadExactly(s, 5)).ToArray());
                Assert.All(replies, r => Assert.Equal("+OK\r\n", r));
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        });
    }

    [Fact]
    public void RandomBytes_64KiB_OnlyErrorRepliesThenClosed_ServerServesOthers()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            byte[] noise = new byte[64 * 1024];
            new Random(9).NextBytes(noise);

            string received = await CacheFaultHarness.ExchangeAsync(server.LocalEndPoint, noise);

            Assert.All(
                received.Split("\r\n", StringSplitOptions.RemoveEmptyEntries),
                line => Assert.StartsWith("-ERR", line, StringComparison.Ordinal));
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Fact]
    public void HalfValidInput_ValidRequestsAnsweredThenProtocolErrorAndClose()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            string received = await CacheFaultHarness.ExchangeAsync(
                server.LocalEndPoint,
                CacheFaultHarness.Ascii("SET a 1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$-5\r\nPING\r\n"));

            Assert.Equal("+OK\r\n$1\r\n1\r\n-ERR Protocol error: invalid bulk length\r\n", received);
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Theory]
    [InlineData("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n")]
    [InlineData("*1\r\n$1000000000000\r\n", "-ERR Protocol error: invalid bulk length\r\n")]
    [InlineData("*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n")]
    public void OversizedHeader_AnsweredWithRedisErrorAndClosed(string header, string expected)
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            string received = await CacheFaultHarness.ExchangeAsync(server.LocalEndPoint, CacheFaultHarness.Ascii(header));

            Assert.Equal(expected, received);
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Fact]
    public void HeaderLineWithoutEnd_BeyondTheInlineLimit_AnsweredAndClosed()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            string received = await CacheFaultHarness.ExchangeAsync(server.LocalEndPoint, Encoding.ASCII.GetBytes("*" + new string('1', 80 * 1024)));

            // The reply may be lost to the reset the kernel sends for the input the server never read.
            Assert.True(
                received is "-ERR Protocol error: too big mbulk count string\r\n" or "",
                $"unexpected reply: {received}");
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }

    [Fact]
    public void HalfClose_RequestsThenFin_AllAnsweredThenClosed()
    {
        CacheFaultHarness.Run(async (loop, server) =>
        {
            string received = await CacheFaultHarness.ExchangeAsync(server.LocalEndPoint, CacheFaultHarness.Ascii("SET h 1\r\nPING\r\nGET h\r\n"), shutdownSend: true);

            Assert.Equal("+OK\r\n+PONG\r\n$1\r\n1\r\n", received);
            await CacheFaultHarness.WaitUntilAsync(loop, () => server.ConnectionCount == 0);
            await CacheFaultHarness.AssertServesAsync(loop, server);
        });
    }
}
