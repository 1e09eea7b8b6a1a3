using System.Runtime.InteropServices;

namespace EventLoop.Samples.Commands;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM into a callback on the loop thread, so servers stop through
/// their normal graceful path instead of the process being torn down mid-write.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    private ShutdownSignal(Loop loop, Action onSignal)
    {
        // Signal handlers run on a runtime thread; Post is the loop's thread-safe entry point.
        Action<PosixSignalContext> handler = context =>
        {
            context.Cancel = true;
            loop.Post(onSignal);
        };
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, handler);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, handler);
    }

    /// <summary>Calls <paramref name="onSignal"/> on the loop thread on each SIGINT/SIGTERM until disposed.</summary>
    public static ShutdownSignal Register(Loop loop, Action onSignal) => new(loop, onSignal);

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
