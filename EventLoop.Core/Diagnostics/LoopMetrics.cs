using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace EventLoop;

/// <summary>
/// The <c>EventLoop</c> meter (System.Diagnostics.Metrics) and its instruments, shared by every
/// loop of the process; each measurement carries the loop's name as <c>eventloop.loop.name</c>.
/// </summary>
/// <remarks>
/// Nothing is measured for an instrument nobody listens to: the loop keeps plain counters it
/// keeps anyway and, once per iteration, checks whether any instrument is enabled; only then does
/// it hand the counters' increments to the meter, time its polls (utilization) or arm the delay
/// probe. Observable instruments read the loops' fields when a listener collects.
/// </remarks>
public static class LoopMetrics
{
    /// <summary>The meter's name: <c>EventLoop</c>.</summary>
    public const string MeterName = "EventLoop";

    /// <summary>The tag naming the loop a measurement belongs to: <c>eventloop.loop.name</c>.</summary>
    public const string LoopNameTag = "eventloop.loop.name";

    /// <summary>How often the delay probe asks to run while <c>eventloop.loop.delay</c> is listened to.</summary>
    public static readonly TimeSpan DelayProbeInterval = TimeSpan.FromMilliseconds(20);

    private static readonly ConditionalWeakTable<Loop, object> s_loops = new();
    private static readonly object s_registered = new();

    internal static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> Iterations = Meter.CreateCounter<long>(
        "eventloop.loop.iterations", "{iteration}", "Loop iterations run.");

    internal static readonly Counter<long> Callbacks = Meter.CreateCounter<long>(
        "eventloop.loop.callbacks", "{callback}", "Callbacks and greenlet steps run.");

    internal static readonly Histogram<double> Delay = Meter.CreateHistogram<double>(
        "eventloop.loop.delay", "ms", "How late the loop runs work that is due: a probe due every 20 ms, measured when it runs.");

    internal static readonly Counter<long> Spawned = Meter.CreateCounter<long>(
        "eventloop.greenlets.spawned", "{greenlet}", "Greenlets spawned.");

    internal static readonly ObservableGauge<double> Utilization = Meter.CreateObservableGauge(
        "eventloop.loop.utilization", ObserveUtilization, "1", "Share of wall time the loop was busy (not waiting for work in its poll or the spin before it, nor stopped) since the previous reading, 0..1.");

    internal static readonly ObservableUpDownCounter<long> LiveGreenlets = Meter.CreateObservableUpDownCounter(
        "eventloop.greenlets.live", static () => Observe(static l => l.LiveGreenletCount), "{greenlet}", "Greenlets spawned and not yet finished.");

    internal static readonly ObservableUpDownCounter<long> TimersPending = Meter.CreateObservableUpDownCounter(
        "eventloop.timers.pending", static () => Observe(static l => l.PendingTimerCount), "{timer}", "Timers scheduled and not yet fired or cancelled.");

    internal static readonly ObservableUpDownCounter<long> Registrations = Meter.CreateObservableUpDownCounter(
        "eventloop.registrations", static () => Observe(static l => l.RegistrationCount), "{descriptor}", "Descriptors registered with the poller.");

    /// <summary>True when some listener listens to an instrument the loop feeds per iteration.</summary>
    internal static bool AnyPerIterationEnabled =>
        Iterations.Enabled || Callbacks.Enabled || Spawned.Enabled || Delay.Enabled || Utilization.Enabled;

    internal static void Register(Loop loop) => s_loops.AddOrUpdate(loop, s_registered);

    internal static void Unregister(Loop loop) => s_loops.Remove(loop);

    // One measurement per name: loops that share a name are one series, as their counters'
    // increments are. Counts add up; the utilization of such a series is their mean.
    private static List<Measurement<long>> Observe(Func<Loop, long> read) =>
        PerName<long>(loop => read(loop), static (sum, value, _) => sum + value);

    // A loop whose busy share is unknown in this window (it waited untimed) is left out of it.
    private static List<Measurement<double>> ObserveUtilization() =>
        PerName(static loop => loop.ReadUtilization(), static (mean, value, loopsSoFar) => ((mean * loopsSoFar) + value) / (loopsSoFar + 1));

    /// <summary>
    /// One measurement per loop name, merging the values of loops that share one (<paramref name="merge"/>
    /// gets the value so far, the next loop's, and how many loops made the first); a loop that
    /// reads null has no value this time and is left out.
    /// </summary>
    private static List<Measurement<T>> PerName<T>(Func<Loop, T?> read, Func<T, T, int, T> merge)
        where T : struct
    {
        var list = new List<Measurement<T>>();
        var byName = new Dictionary<string, (int Index, int Loops)>(StringComparer.Ordinal);
        foreach (KeyValuePair<Loop, object> entry in s_loops)
        {
            Loop loop = entry.Key;
            if (read(loop) is not T value)
            {
                continue;
            }

            if (byName.TryGetValue(loop.Name, out (int Index, int Loops) seen))
            {
                list[seen.Index] = new Measurement<T>(merge(list[seen.Index].Value, value, seen.Loops), loop.NameTag);
                byName[loop.Name] = (seen.Index, seen.Loops + 1);
            }
            else
            {
                byName.Add(loop.Name, (list.Count, 1));
                list.Add(new Measurement<T>(value, loop.NameTag));
            }
        }

        return list;
    }
}
