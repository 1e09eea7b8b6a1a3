namespace EventLoop.Sync;

/// <summary>The capacity argument the public queues share.</summary>
internal static class QueueCapacity
{
    /// <summary>Null means unbounded (<see cref="int.MaxValue"/>); otherwise at least 1.</summary>
    public static int Validate(int? capacity, string paramName = "capacity")
    {
        if (capacity is { } bound)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1, paramName);
            return bound;
        }

        return int.MaxValue;
    }
}
