using System.Buffers;
using CsCheck;
using EventLoop.Samples.Cache;

namespace EventLoop.Tests.Samples.Cache;

public sealed class RespPropertyTests
{
    // Bytes biased towards protocol characters so random input reaches deep parser states.
    private static readonly Gen<byte> s_protocolByte = Gen.Frequency(
        (3, Gen.Byte),
        (2, Gen.OneOf("*$\r\n 0123456789-\"'\\xPINGSETget"u8.ToArray())));

    [Fact]
    public void Feed_RandomBytesInRandomChunks_NeverThrowsAndRepliesParse()
    {
        Gen.Select(s_protocolByte.Array[0, 300], Gen.Int[1, 40].Array[1, 20])
            .Sample((input, chunks) =>
            {
                var driver = new RespConnectionDriver(new CommandProcessor(new CacheStore()), new RespLimits { MaxInlineLength = 64, MaxBulkLength = 64 });
                var output = new List<byte>();
                int offset = 0;
                int chunk = 0;
                var action = ConnectionAction.Continue;
                while (offset < input.Length && action == ConnectionAction.Continue)
                {
                    int size = Math.Min(chunks[chunk++ % chunks.Length], input.Length - offset);
                    action = driver.Feed(input.AsSpan(offset, size));
                    offset += size;
                    output.AddRange(driver.PendingOutput.ToArray());
                    driver.AdvanceOutput(driver.PendingOutput.Length);
                }

                var replies = ParseAll(output.ToArray());
                if (action == ConnectionAction.CloseAfterFlush)
                {
                    var last = replies[^1];
                    bool quit = last.Kind == RespValueKind.SimpleString && last.Text == "OK";
                    bool protocolError = last.Kind == RespValueKind.Error && last.Text!.StartsWith("ERR Protocol error: ", StringComparison.Ordinal);
                    Assert.True(quit || protocolError, "closed after " + last);
                }
            }, iter: 2000);
    }

    [Fact]
    public void RequestWriter_ThenParser_RoundTripsArguments()
    {
        Gen.Byte.Array[0, 40].Array[1, 8]
            .Select(Gen.Int[1, 64])
            .Sample((args, chunkSize) =>
            {
                var request = new ArrayBufferWriter<byte>();
                var memories = Array.ConvertAll(args, a => (ReadOnlyMemory<byte>)a);
                RespRequestWriter.WriteCommand(request, memories);
                var bytes = request.WrittenSpan.ToArray();

                var parser = new RespParser();
                int end = 0;
                OperationStatus status;
                do
                {
                    end = Math.Min(bytes.Length, end + chunkSize);
                    status = parser.TryParse(bytes.AsSpan(0, end), out int consumed, out _);
                    Assert.Equal(status == OperationStatus.Done ? bytes.Length : 0, consumed);
                }
                while (status == OperationStatus.NeedMoreData && end < bytes.Length);

                Assert.Equal(OperationStatus.Done, status);
                Assert.Equal(args.Length, parser.Arguments.Count);
                for (int i = 0; i < args.Length; i++)
                {
                    Assert.Equal(args[i], parser.Arguments.Span(i).ToArray());
                }
            }, iter: 1000);
    }

    private static List<RespValue> ParseAll(byte[] output)
    {
        var replies = new List<RespValue>();
        int offset = 0;
        while (offset < output.Length)
        {
            var status = RespReplyParser.TryParse(output.AsSpan(offset), out var value, out int consumed);
            Assert.Equal(OperationStatus.Done, status);
            replies.Add(value!);
            offset += consumed;
        }

        return replies;
    }
}
