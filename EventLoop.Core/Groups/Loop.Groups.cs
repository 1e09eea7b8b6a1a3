namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Opens a <see cref="TaskScope"/> (a nursery): <c>await using var scope = loop.OpenScope();</c>. Loop thread.
    /// </summary>
    /// <returns>The scope.</returns>
    public TaskScope OpenScope() => TaskScope.Create(this);

    /// <summary>Runs <paramref name="body"/> in a new <see cref="TaskScope"/>; see <see cref="TaskScope.RunAsync"/>. Loop thread.</summary>
    /// <param name="body">The scope body.</param>
    /// <returns>A task that completes when the body and every child have finished; faults with their failures.</returns>
    public Task RunScopeAsync(Func<TaskScope, Task> body) => TaskScope.RunAsync(this, body);
}
