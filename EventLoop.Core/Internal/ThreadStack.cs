using System.Runtime.CompilerServices;
using EventLoop.Interop;

namespace EventLoop.Internal;

/// <summary>
/// A thread's stack: the range of addresses its frames live in. A loop holds the stack of the
/// thread running it, so the loop-thread checks on the hot path (every socket call, every wait's
/// start and completion) compare the address of a local with that range instead of asking for the
/// current thread's id, which on Linux is a thread-local lookup through the C library's
/// <c>__tls_get_addr</c>. The stacks of live threads never overlap, so only the thread a range
/// belongs to can find a local of its own inside it.
/// </summary>
internal sealed class ThreadStack
{
#pragma warning disable IDE1006 // a [ThreadStatic] keeps the runtime's t_ prefix
    [ThreadStatic]
    private static ThreadStack? t_current;
#pragma warning restore IDE1006

    private readonly nuint _low;
    private readonly nuint _size;

    private ThreadStack(nuint low, nuint size)
    {
        _low = low;
        _size = size;
    }

    /// <summary>
    /// The calling thread's stack, looked up once per thread. When the C library cannot tell, an
    /// empty range that contains nothing, so callers fall back to comparing thread ids.
    /// </summary>
    internal static ThreadStack Current => t_current ??= Lookup();

    /// <summary>True when the calling thread's frames are in this range: it is the thread the range belongs to.</summary>
    /// <returns>True on this range's thread; false on any other, and always for an empty range.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe bool HoldsCaller()
    {
        byte probe = 0;
        return (nuint)(&probe) - _low < _size;
    }

    private static ThreadStack Lookup()
    {
        (nuint low, nuint size) = Libc.GetCurrentThreadStack();
        return new ThreadStack(low, size);
    }
}
