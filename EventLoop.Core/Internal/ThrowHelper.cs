using System.Diagnostics.CodeAnalysis;

namespace EventLoop.Internal;

/// <summary>Throw sites kept out of hot methods so those stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowObjectDisposed(string name) => throw new ObjectDisposedException(name);

    [DoesNotReturn]
    public static void ThrowNegativeDelay(string paramName, TimeSpan value) =>
        throw new ArgumentOutOfRangeException(paramName, value, "The delay must not be negative.");

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);

    [DoesNotReturn]
    public static void ThrowWrongThread(string member) => throw new InvalidOperationException(
        $"{(member.Contains('.', StringComparison.Ordinal) ? member : "Loop." + member)} was called from thread {Environment.CurrentManagedThreadId}, but the loop is running on another thread. " +
        "Only Post, Stop, Spawn and Greenlet.Kill may be called from any thread; a greenlet continuation that " +
        "resumed off the loop thread (ConfigureAwait(false)) must not touch the loop.");

    [DoesNotReturn]
    public static void ThrowStaleToken() => throw new InvalidOperationException(
        "The operation was already awaited or its result already taken; a loop ValueTask can be awaited once.");

    [DoesNotReturn]
    public static void ThrowArgumentNull(string paramName) => throw new ArgumentNullException(paramName);
}
