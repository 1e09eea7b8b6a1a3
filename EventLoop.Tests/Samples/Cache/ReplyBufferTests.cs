using System.Text;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class ReplyBufferTests
{
    private static string DrainAll(ReplyBuffer buffer)
    {
        var text = new StringBuilder();
        while (!buffer.IsEmpty)
        {
            text.Append(Encoding.Latin1.GetString(buffer.First.Span));
            buffer.MarkSent(buffer.First.Length);
        }

        return text.ToString();
    }

    [Fact]
    public void WritesAndReferences_ComeOutInOrder()
    {
        var buffer = new ReplyBuffer();
        byte[] value = Encoding.ASCII.GetBytes(new string('v', ReplyBuffer.ReferenceThreshold));

        RespWriter.WriteOk(buffer);
        RespWriter.WriteStoredBulkString(buffer, value);
        RespWriter.WriteInteger(buffer, 7);

        Assert.Equal(3, buffer.SegmentCount);
        Assert.Equal($"+OK\r\n${value.Length}\r\n{new string('v', value.Length)}\r\n:7\r\n", DrainAll(buffer));
        Assert.Equal(0, buffer.SegmentCount);
    }

    [Fact]
    public void StoredValueBelowThreshold_IsCopied()
    {
        var buffer = new ReplyBuffer();
        byte[] value = "small"u8.ToArray();

        RespWriter.WriteStoredBulkString(buffer, value);
        value[0] = (byte)'S';

        Assert.Equal(1, buffer.SegmentCount);
        Assert.Equal("$5\r\nsmall\r\n", DrainAll(buffer));
    }

    [Fact]
    public void MarkSent_PartOfASegment_RestStaysFirst()
    {
        var buffer = new ReplyBuffer();
        RespWriter.WriteOk(buffer);

        buffer.MarkSent(2);

        Assert.Equal("K\r\n", Encoding.Latin1.GetString(buffer.First.Span));
        Assert.Equal(3, buffer.PendingBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.MarkSent(4));
    }

    [Fact]
    public void ManyChunks_AllSent_RingShrinksAndNothingIsHeld()
    {
        var buffer = new ReplyBuffer();
        byte[] value = new byte[ReplyBuffer.ReferenceThreshold];
        for (int i = 0; i < 100; i++)
        {
            RespWriter.WriteStoredBulkString(buffer, value);
        }

        Assert.True(buffer.SegmentCount >= 100);
        DrainAll(buffer);

        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.SegmentCount);
        Assert.True(buffer.First.IsEmpty);
    }

    [Fact]
    public void GetSpan_LargerThanAChunk_ServedInOneSpan()
    {
        var buffer = new ReplyBuffer();
        Span<byte> span = buffer.GetSpan(40_000);
        Assert.True(span.Length >= 40_000);
        span[..40_000].Fill((byte)'a');
        buffer.Advance(40_000);

        Assert.Equal(40_000, buffer.First.Length);
        buffer.Clear();
        Assert.True(buffer.IsEmpty);
    }
}
