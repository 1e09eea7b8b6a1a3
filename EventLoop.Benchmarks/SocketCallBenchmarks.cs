using System.Net.Sockets;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EventLoop.Net;
using EventLoop.Net.Interop;

namespace EventLoop.Benchmarks;

/// <summary>
/// What one send and one receive of 64 bytes cost from managed code, over a connected Unix stream
/// socket pair, without a loop: the data path's bindings (<c>SocketPal.Send</c>/<c>Receive</c>) against
/// glibc's <c>send</c>/<c>recv</c> wrappers bound with <c>SetLastError</c>. The kernel's work is the same
/// in both, so the difference is the cost of the call itself.
/// Run: <c>dotnet run -c Release --project EventLoop.Benchmarks -- --filter *SocketCallBenchmarks*</c>.
/// </summary>
[MemoryDiagnoser]
public unsafe class SocketCallBenchmarks
{
    private readonly byte[] _message = new byte[64];
    private readonly byte[] _received = new byte[64];
    private int _writer;
    private int _reader;

    [GlobalSetup]
    public void Setup()
    {
        if (SocketPal.CreateSocketPair(SocketType.Stream, out _writer, out _reader) != SocketError.Success)
        {
            throw new InvalidOperationException("socketpair failed");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SocketPal.Close(_writer);
        SocketPal.Close(_reader);
    }

    /// <summary>glibc's recv/send (thread cancellation points) through SetLastError stubs.</summary>
    [Benchmark(Baseline = true)]
    public nint LibcWrappers()
    {
        fixed (byte* message = _message)
        fixed (byte* received = _received)
        {
            if (Libc.send(_writer, message, 64, Libc.MSG_NOSIGNAL) < 0)
            {
                return -Marshal.GetLastPInvokeError();
            }

            nint result = Libc.recv(_reader, received, 64, 0);
            return result < 0 ? -Marshal.GetLastPInvokeError() : result;
        }
    }

    /// <summary>The bindings stream connections use.</summary>
    [Benchmark]
    public int DataPath()
    {
        SocketPal.Send(_writer, _message, out int sent);
        SocketPal.Receive(_reader, _received, out int received);
        return sent + received;
    }
}
