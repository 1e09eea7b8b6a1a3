using System.Diagnostics;
using EventLoop.Scheduling;

namespace EventLoop;

public sealed partial class Loop
{
    private readonly long _slowThreshold; // Stopwatch ticks; 0 = off

    /// <summary>A snapshot of the loop's counters. Loop thread (or while the loop is idle).</summary>
    public LoopStatistics Statistics => new(
        _iterations,
        _callbacksRun,
        _timers.Count,
        _registrationCount,
        _liveCount,
        _runQueue.Count);

    /// <summary>Sends an exception from a callback, a link or a greenlet to the handler; never throws.</summary>
    internal void ReportUnhandled(Exception error, Greenlet? greenlet)
    {
        Action<Exception>? handler = _options.UnhandledException;
        if (handler is not null)
        {
            try
            {
                handler(error);
                return;
            }
            catch (Exception handlerError)
            {
                WriteError($"EventLoop: the UnhandledException handler threw: {handlerError}");
            }
        }

        WriteError(greenlet is null
            ? $"EventLoop: unhandled exception in a callback: {error}"
            : $"EventLoop: unhandled exception in greenlet #{greenlet.Id} '{greenlet.Name}': {error}");
    }

    internal void ReportGreenletFailure(Greenlet greenlet, Exception error)
    {
        if (_options.UnhandledException is null)
        {
            WriteError($"EventLoop: greenlet #{greenlet.Id} '{greenlet.Name}' failed: {error}");
            return;
        }

        ReportUnhandled(error, greenlet);
    }

    /// <summary>Reports a greenlet whose body completed off the loop thread (a ConfigureAwait(false) escape).</summary>
    internal void ReportEscape(Greenlet greenlet) => ReportUnhandled(
        new InvalidOperationException(
            $"Greenlet #{greenlet.Id} '{greenlet.Name}' resumed off the loop thread (thread {Environment.CurrentManagedThreadId}); " +
            "an await with ConfigureAwait(false) let it escape the loop. Its completion was moved back to the loop."),
        greenlet);

    private void RunTimed(in ReadyItem item)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            item.Invoke();
        }
        catch (Exception ex)
        {
            ReportUnhandled(ex, item.Owner);
        }

        long elapsed = Stopwatch.GetTimestamp() - start;
        if (elapsed > _slowThreshold)
        {
            ReportSlow(new SlowCallbackInfo(Stopwatch.GetElapsedTime(start, start + elapsed), item.Owner, Describe(item.Callback, item.State)));
        }
    }

    private void ReportSlow(SlowCallbackInfo info)
    {
        Action<SlowCallbackInfo>? handler = _options.SlowCallback;
        if (handler is null)
        {
            WriteError(info.ToString());
            return;
        }

        try
        {
            handler(info);
        }
        catch (Exception ex)
        {
            ReportUnhandled(ex, null);
        }
    }

    /// <summary>
    /// Names a run-queue item for a slow-callback report. An async method's step is the runtime's
    /// state-machine box (the target of its MoveNext action, or the state handed to a
    /// value-task continuation): the box is a generic type whose last type argument is the
    /// compiler's state machine, named after the user's method (<c>&lt;Handle&gt;d__4</c>). Only
    /// <see cref="object.GetType"/>, <see cref="Type.GetGenericArguments"/> and
    /// <c>Type.Name</c> are used, which trimming and NativeAOT keep; where reflection
    /// metadata is stripped the name degrades to what the runtime still knows.
    /// </summary>
    private static string Describe(object callback, object? state)
    {
        if (StateMachineName(callback is Delegate d ? d.Target : callback) is { } fromTarget)
        {
            return fromTarget;
        }

        if (StateMachineName(state is Delegate s ? s.Target : state) is { } fromState)
        {
            return fromState;
        }

        return callback is Delegate named
            ? $"{named.Method.DeclaringType?.Name}.{named.Method.Name}"
            : callback.GetType().Name;
    }

    private static string? StateMachineName(object? candidate)
    {
        if (candidate is null || candidate is Delegate)
        {
            return null;
        }

        Type type = candidate.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        Type[] arguments = type.GetGenericArguments();
        Type machine = arguments[^1];
        return typeof(System.Runtime.CompilerServices.IAsyncStateMachine).IsAssignableFrom(machine) ? machine.Name : null;
    }

    private static void WriteError(string message)
    {
        try
        {
            Console.Error.WriteLine(message);
        }
        catch (IOException)
        {
            // Standard error is gone; there is nowhere left to report to.
        }
    }
}
