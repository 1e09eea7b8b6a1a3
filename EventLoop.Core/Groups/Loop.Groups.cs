namespace EventLoop;

public sealed partial class Loop
{
    /// <summary>
    /// Opens a <see cref="TaskScope"/>, a nursery of greenlets that cannot outlive it:
    /// <c>await using var scope = loop.OpenTaskScope();</c>. Not to be confused with
    /// <see cref="OpenCancelScope"/>, which only cancels. Loop thread.
    /// </summary>
    /// <returns>The scope.</returns>
    public TaskScope OpenTaskScope() => TaskScope.Create(this);

    /// <summary>Opens a <see cref="TaskScope"/>; the former name of <see cref="OpenTaskScope"/>.</summary>
    /// <returns>The scope.</returns>
    [Obsolete("Use OpenTaskScope(); OpenScope() was easy to confuse with OpenCancelScope().")]
    public TaskScope OpenScope() => OpenTaskScope();

    /// <summary>Runs <paramref name="body"/> in a new <see cref="TaskScope"/>; see <see cref="TaskScope.RunAsync"/>. Loop thread.</summary>
    /// <param name="body">The scope body.</param>
    /// <returns>A task that completes when the body and every child have finished; faults with their failures.</returns>
    public Task RunScopeAsync(Func<TaskScope, Task> body) => TaskScope.RunAsync(this, body);
}
