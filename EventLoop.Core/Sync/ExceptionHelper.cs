using System.Runtime.ExceptionServices;

namespace EventLoop.Sync;

/// <summary>Rethrowing stored exceptions as they were thrown, and combining several.</summary>
internal static class ExceptionHelper
{
    public static void ThrowIfNotNull(Exception? error)
    {
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>One failure is rethrown as it was thrown; several become an <see cref="AggregateException"/>.</summary>
    public static void ThrowFailures(List<Exception>? failures)
    {
        if (failures is null || failures.Count == 0)
        {
            return;
        }

        if (failures.Count == 1)
        {
            ExceptionDispatchInfo.Throw(failures[0]);
        }

        throw new AggregateException(failures);
    }
}
