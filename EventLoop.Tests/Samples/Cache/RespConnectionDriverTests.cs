using System.Text;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class RespConnectionDriverTests
{
    private readonly CacheHarness _cache = new();

    private RespConnectionDriver NewDriver(RespLimits? limits = null, int highWater = 1024 * 1024) => new(_cache.Processor, limits, highWater);

    private static string Drain(RespConnectionDriver driver)
    {
        var text = new StringBuilder();
        while (!driver.PendingOutput.IsEmpty)
        {
            text.Append(CacheHarness.Latin1(driver.PendingOutput.Span));
            driver.AdvanceOutput(driver.PendingOutput.Length);
        }

        return text.ToString();
    }

    [Fact]
    public void Feed_PipelinedBatch_ConcatenatedReplies()
    {
        var driver = NewDriver();

        var action = driver.Feed("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\nINCR n\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\nPING\r\n"u8);

        Assert.Equal(ConnectionAction.Continue, action);
        Assert.Equal("+OK\r\n$1\r\nv\r\n:1\r\n:2\r\n+PONG\r\n", Drain(driver));
        Assert.True(driver.PendingOutput.IsEmpty);
        Assert.Equal(0, driver.BufferedInputLength);
    }

    [Fact]
    public void Feed_ByteByByte_SameReplies()
    {
        var driver = NewDriver();
        var input = "*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nPING\r\n"u8.ToArray();
        var output = new StringBuilder();

        foreach (byte b in input)
        {
            Assert.Equal(ConnectionAction.Continue, driver.Feed([b]));
            output.Append(Drain(driver));
        }

        Assert.Equal("$3\r\nabc\r\n+PONG\r\n", output.ToString());
    }

    [Fact]
    public void Feed_Quit_RepliesOkThenCloses()
    {
        var driver = NewDriver();

        var action = driver.Feed("PING\r\nQUIT\r\nPING\r\n"u8);

        Assert.Equal(ConnectionAction.CloseAfterFlush, action);
        Assert.True(driver.IsClosing);
        Assert.Equal("+PONG\r\n+OK\r\n", Drain(driver));
        Assert.Equal(ConnectionAction.CloseAfterFlush, driver.Feed("PING\r\n"u8));
        Assert.True(driver.PendingOutput.IsEmpty);
    }

    [Fact]
    public void Feed_ProtocolError_RepliesErrorThenCloses()
    {
        var driver = NewDriver();

        var action = driver.Feed("PING\r\n*1\r\n$x\r\nPING\r\n"u8);

        Assert.Equal(ConnectionAction.CloseAfterFlush, action);
        Assert.Equal("+PONG\r\n-ERR Protocol error: invalid bulk length\r\n", Drain(driver));
        Assert.Equal(0, driver.BufferedInputLength);
    }

    [Fact]
    public void Feed_QueryBufferOverLimit_ClosesWithoutReply()
    {
        var driver = NewDriver(new RespLimits { MaxQueryBufferLength = 64 });
        Assert.Equal(ConnectionAction.Continue, driver.Feed("*2\r\n$4\r\nECHO\r\n$100\r\n"u8));

        var action = driver.Feed(new byte[60]);

        Assert.Equal(ConnectionAction.CloseAfterFlush, action);
        Assert.True(driver.PendingOutput.IsEmpty);
        Assert.Equal(0, driver.BufferedInputLength);
    }

    [Fact]
    public void Feed_OutputOverHighWater_PausesUntilDrained()
    {
        var driver = NewDriver(highWater: 10);

        driver.Feed("PING\r\nPING\r\nPING\r\nPING\r\n"u8);

        Assert.True(driver.IsOutputBackpressured);
        Assert.Equal("+PONG\r\n+PONG\r\n", Drain(driver));
        Assert.True(driver.BufferedInputLength > 0);
        Assert.Equal(ConnectionAction.Continue, driver.Process());
        Assert.Equal("+PONG\r\n+PONG\r\n", Drain(driver));
        Assert.Equal(0, driver.BufferedInputLength);
    }

    [Fact]
    public void AdvanceOutput_Partial_KeepsRemainder()
    {
        var driver = NewDriver();
        driver.Feed("PING\r\n"u8);

        driver.AdvanceOutput(3);

        Assert.Equal("NG\r\n", CacheHarness.Latin1(driver.PendingOutput.Span));
        Assert.Throws<ArgumentOutOfRangeException>(() => driver.AdvanceOutput(5));
    }

    [Fact]
    public void Feed_LargeValue_InChunks()
    {
        var driver = NewDriver();
        var value = new byte[200_000];
        new Random(1).NextBytes(value);
        var request = new System.Buffers.ArrayBufferWriter<byte>();
        RespRequestWriter.WriteCommand(request, new ReadOnlyMemory<byte>[] { "SET"u8.ToArray(), "big"u8.ToArray(), value });
        var bytes = request.WrittenMemory;

        for (int offset = 0; offset < bytes.Length; offset += 1000)
        {
            driver.Feed(bytes.Span[offset..Math.Min(bytes.Length, offset + 1000)]);
        }

        Assert.Equal("+OK\r\n", Drain(driver));
        Assert.True(_cache.Store.TryGet("big"u8, out var stored));
        Assert.Equal(value, stored);
    }

    [Fact]
    public void ReleaseIdleBuffers_NothingBuffered_HoldsNoInputBuffer()
    {
        var driver = NewDriver();
        Assert.Equal(0, driver.InputCapacity);

        Memory<byte> space = driver.GetReceiveMemory();
        "PING\r\n"u8.CopyTo(space.Span);
        driver.CommitReceived(6);
        Assert.True(driver.InputCapacity >= 16 * 1024);
        Assert.Equal("+PONG\r\n", Drain(driver));

        driver.ReleaseIdleBuffers();

        Assert.Equal(0, driver.InputCapacity);
        Assert.Equal(0, driver.PendingOutputLength);
    }

    [Fact]
    public void ReleaseIdleBuffers_SmallPartialRequest_KeptInAnExactArrayAndCompletedLater()
    {
        var driver = NewDriver();
        driver.Feed("*2\r\n$4\r\nECHO\r\n$5\r\nhel"u8);

        driver.ReleaseIdleBuffers();

        Assert.Equal(driver.BufferedInputLength, driver.InputCapacity);
        Assert.Equal(ConnectionAction.Continue, driver.Feed("lo\r\n"u8));
        Assert.Equal("$5\r\nhello\r\n", Drain(driver));
    }

    [Fact]
    public void Get_LargeValue_QueuedByReferenceToTheStoredArray()
    {
        var driver = NewDriver();
        byte[] value = new byte[256 * 1024];
        value.AsSpan().Fill((byte)'x');
        _cache.Store.Set("big"u8, value);

        driver.Feed("GET big\r\n"u8);

        Assert.Equal("$262144\r\n", CacheHarness.Latin1(driver.PendingOutput.Span));
        driver.AdvanceOutput(driver.PendingOutput.Length);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(driver.PendingOutput, out ArraySegment<byte> segment));
        Assert.Same(value, segment.Array);
        driver.AdvanceOutput(driver.PendingOutput.Length);
        Assert.Equal("\r\n", Drain(driver));
    }

    [Fact]
    public void Get_LargeValueWhenWarm_AllocatesNothingPerReply()
    {
        var driver = NewDriver();
        _cache.Store.Set("big"u8, new byte[256 * 1024]);
        byte[] request = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"u8.ToArray();
        for (int i = 0; i < 3; i++)
        {
            ServeOnce(driver, request);
        }

        long allocated = AllocationWindows.Quietest(3, () =>
        {
            for (int i = 0; i < 100; i++)
            {
                ServeOnce(driver, request);
            }
        });

        // A copy per reply would be 100 x 256 KiB on the large-object heap.
        Assert.InRange(allocated, 0, 1024);
    }

    private static void ServeOnce(RespConnectionDriver driver, byte[] request)
    {
        Memory<byte> space = driver.GetReceiveMemory();
        request.CopyTo(space);
        driver.CommitReceived(request.Length);
        while (!driver.PendingOutput.IsEmpty)
        {
            driver.AdvanceOutput(driver.PendingOutput.Length);
        }

        driver.ReleaseIdleBuffers();
    }

    [Fact]
    public void Feed_PipelinedLargeValues_PausedAtTheHighWaterMarkWithoutCopying()
    {
        var driver = NewDriver(highWater: 1024 * 1024);
        _cache.Store.Set("big"u8, new byte[256 * 1024]);

        driver.Feed(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET big\r\n", 100))));

        Assert.True(driver.IsOutputBackpressured);
        Assert.InRange(driver.PendingOutputLength, 1024 * 1024, (1024 * 1024) + (256 * 1024) + 64);
        Assert.True(driver.BufferedInputLength > 0);
    }
}
