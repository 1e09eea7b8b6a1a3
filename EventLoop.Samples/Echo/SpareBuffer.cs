using System.Buffers;
using System.Runtime.CompilerServices;

namespace EventLoop.Samples.Echo;

/// <summary>
/// The receive buffer that the echoes of one loop take turns with. A loop runs one greenlet at a
/// time, and an echo holds its buffer across a wait only when its send has to wait for room, so
/// one spare per loop serves nearly every message; an echo that finds it lent out rents from the
/// shared pool. An echo finds its loop's spare once, when its connection starts; each message then
/// takes and gives back the buffer with plain field accesses. A thread-local spare would cost a
/// call into the runtime's thread-local lookup twice per message: an indirect call, and the first
/// indirect call after a system call is mispredicted.
/// </summary>
internal sealed class SpareBuffer
{
    private static readonly ConditionalWeakTable<Loop, SpareBuffer> s_perLoop = [];
    private byte[]? _spare;

    /// <summary>The spare of <paramref name="loop"/>, made on first use; kept as long as the loop is.</summary>
    public static SpareBuffer Of(Loop loop) => s_perLoop.GetValue(loop, static _ => new SpareBuffer());

    /// <summary>Takes the spare when it is free and large enough, else rents one. Loop thread.</summary>
    public byte[] Take(int size)
    {
        byte[]? spare = _spare;
        if (spare is not null && spare.Length >= size)
        {
            _spare = null;
            return spare;
        }

        return ArrayPool<byte>.Shared.Rent(size);
    }

    /// <summary>Gives a buffer back: it becomes the spare when there is none, else goes back to the pool. Loop thread.</summary>
    public void GiveBack(byte[] buffer)
    {
        if (_spare is null)
        {
            _spare = buffer;
        }
        else
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
