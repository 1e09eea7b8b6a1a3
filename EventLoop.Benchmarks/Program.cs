using BenchmarkDotNet.Running;
using EventLoop.Benchmarks;

if (args.Length > 0 && args[0] == "sleepers")
{
    ManySleepersBenchmark.Run(tracked: !args.Contains("--untracked"));
    return;
}

if (args.Length > 0 && args[0] == "held")
{
    HeldConnectionsProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3000);
    return;
}

if (args.Length > 1 && args[0] == "hold")
{
    HoldForDump.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(CoreBenchmarks).Assembly).Run(args);
