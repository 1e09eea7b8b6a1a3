using BenchmarkDotNet.Running;
using EventLoop.Benchmarks;

if (args.Length > 0 && args[0] == "sleepers")
{
    ManySleepersBenchmark.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(CoreBenchmarks).Assembly).Run(args);
