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
            ReportSlow(new SlowCallbackInfo(Stopwatch.GetElapsedTime(start, start + elapsed), item.Owner, Describe(item.Callback)));
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

    private static string Describe(object callback)
    {
        if (callback is Delegate d)
        {
            object? target = d.Target;
            // Async continuations are the state machine box's MoveNext: name the user's method.
            if (target is not null && target.GetType().GetField("StateMachine") is { } field && field.GetValue(target) is { } machine)
            {
                return machine.GetType().Name;
            }

            return $"{d.Method.DeclaringType?.Name}.{d.Method.Name}";
        }

        return callback.GetType().Name;
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
