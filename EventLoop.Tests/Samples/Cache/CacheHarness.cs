using System.Buffers;
using System.Text;
using EventLoop.Samples.Cache;
using Microsoft.Extensions.Time.Testing;

namespace EventLoop.Tests.Samples.Cache;

/// <summary>A processor over a store on fake time, with helpers that return raw reply text.</summary>
internal sealed class CacheHarness
{
    public CacheHarness(int maxKeys = 0)
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Store = new CacheStore(Time, maxKeys, new Random(42));
        Processor = new CommandProcessor(Store);
        Session = Processor.CreateSession();
    }

    public FakeTimeProvider Time { get; }

    public CacheStore Store { get; }

    public CommandProcessor Processor { get; }

    public ClientSession Session { get; }

    public CommandResult LastResult { get; private set; }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>Executes one command given as strings and returns its raw reply.</summary>
    public string Run(params string[] args)
    {
        var memories = new ReadOnlyMemory<byte>[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            memories[i] = Encoding.Latin1.GetBytes(args[i]);
        }

        return RunBytes(memories);
    }

    public string RunBytes(IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        var output = new ArrayBufferWriter<byte>();
        LastResult = Processor.Execute(args, output, Session);
        return Latin1(output.WrittenSpan);
    }
}
