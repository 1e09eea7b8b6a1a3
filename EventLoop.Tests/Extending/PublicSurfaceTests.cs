using System.Reflection;
using System.Runtime.CompilerServices;
using EventLoop.Net;

namespace EventLoop.Tests.Extending;

/// <summary>EventLoop.Net is built on Core's public API: Core grants it no internals.</summary>
public sealed class PublicSurfaceTests
{
    [Fact]
    public void Core_GrantsNoInternalsToNet()
    {
        string[] friends = typeof(Loop).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName)
            .ToArray();

        Assert.DoesNotContain(typeof(StreamConnection).Assembly.GetName().Name, friends);
    }

    [Fact]
    public void DriverTypes_ArePublic()
    {
        Assert.True(typeof(LoopWaitSource<>).IsPublic);
        Assert.True(typeof(ReadinessWatch).IsPublic);
        Assert.True(typeof(IReadinessHandler).IsPublic);
        Assert.True(typeof(ReadinessWatch).IsSealed);
    }
}
