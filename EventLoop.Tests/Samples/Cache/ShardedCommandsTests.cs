using System.Buffers;
using System.Text;
using EventLoop.Samples.Cache;
using EventLoop.Samples.Cache.Sharding;

namespace EventLoop.Tests.Samples.Cache;

/// <summary><see cref="ShardedCommands"/> driven directly, with a shard's gate held by the test.</summary>
public sealed class ShardedCommandsTests
{
    // A pipelining connection parses its next request while an earlier one waits at its own
    // shard's gate (held by another connection's spanning command): the waiting request must not
    // run on the parser's reused storage.
    [Fact]
    public void ExecuteAsync_HomeGateHeld_RequestWaits_AndRunsAsSentAfterTheParserMovesOn()
    {
        using var loop = new Loop();
        loop.Run(async () =>
        {
            CacheShard[] shards = [new(loop, 0, 0, null), new(loop, 1, 0, null)];
            CacheShard home = shards[0];
            string key = Enumerable.Range(0, 100).Select(i => "k" + i).First(k => HashSlot.ShardOf(Encoding.ASCII.GetBytes(k), 2) == 0);
            var session = new ClientSession(1);
            var parser = new RespParser();
            byte[] input = Encoding.ASCII.GetBytes($"SET {key} v\r\nGET other\r\n");
            Assert.Equal(OperationStatus.Done, parser.TryParse(input, out int consumed, out _));
            Assert.False(ShardedCommands.MayForward(shards, home, parser.Arguments));

            _ = await home.Gate.AcquireAsync(); // as a spanning command on another connection holds it
            var output = new ArrayBufferWriter<byte>();
            Task<CommandResult> set = ShardedCommands.ExecuteAsync(shards, home, session, parser.Arguments, output).AsTask();
            Assert.False(set.IsCompleted);

            Assert.Equal(OperationStatus.Done, parser.TryParse(input.AsSpan(consumed), out _, out _));
            home.Gate.Release();
            Assert.Equal(CommandResult.Continue, await set);

            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
            Assert.Equal("v"u8.ToArray(), home.Store.Find(Encoding.ASCII.GetBytes(key))?.Value);
        });
    }
}
