using EventLoop.Sync;

namespace EventLoop;

/// <summary>
/// What <see cref="LoopSemaphore.AcquireAsync(CancellationToken)"/> and <see cref="LoopLock.AcquireAsync(CancellationToken)"/>
/// return: disposing it releases the permit, so <c>using (await sem.AcquireAsync()) { ... }</c>
/// scopes the hold. A struct, so the scope allocates nothing.
/// </summary>
/// <remarks>Dispose it exactly once: each dispose releases one permit. The default value releases nothing.</remarks>
public readonly struct LoopReleaser : IDisposable, IEquatable<LoopReleaser>
{
    private readonly ILoopReleasable? _target;

    internal LoopReleaser(ILoopReleasable target) => _target = target;

    /// <summary>Releases the permit (or lock) this releaser stands for. Loop thread.</summary>
    public void Dispose() => _target?.Release();

    /// <inheritdoc />
    public bool Equals(LoopReleaser other) => ReferenceEquals(_target, other._target);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LoopReleaser other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _target?.GetHashCode() ?? 0;

    /// <summary>Compares two releasers.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when both release the same primitive.</returns>
    public static bool operator ==(LoopReleaser left, LoopReleaser right) => left.Equals(right);

    /// <summary>Compares two releasers.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when they release different primitives.</returns>
    public static bool operator !=(LoopReleaser left, LoopReleaser right) => !left.Equals(right);
}
