using System.Diagnostics.Metrics;

namespace EventLoop.Tests.Diagnostics;

/// <summary>A MeterListener on the EventLoop meters that keeps the measurements of one loop, by instrument.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly string _loopName;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, List<double>> _values = [];

    public MetricRecorder(string loopName, params string[] instruments)
    {
        _loopName = loopName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if ((instrument.Meter.Name is "EventLoop" or "EventLoop.Net") &&
                (instruments.Length == 0 || instruments.Contains(instrument.Name)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Every value measured for the instrument, in order.</summary>
    public IReadOnlyList<double> Values(string instrument)
    {
        lock (_values)
        {
            return _values.TryGetValue(instrument, out List<double>? list) ? [.. list] : [];
        }
    }

    /// <summary>The sum of a counter's increments.</summary>
    public double Sum(string instrument) => Values(instrument).Sum();

    /// <summary>Collects the observable instruments now and returns the instrument's latest value (NaN when none and <paramref name="allowNone"/>).</summary>
    public double Observe(string instrument, bool allowNone = false)
    {
        _listener.RecordObservableInstruments();
        IReadOnlyList<double> values = Values(instrument);
        if (allowNone && values.Count == 0)
        {
            return double.NaN;
        }

        Assert.NotEmpty(values);
        return values[^1];
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Only this loop's measurements; others' are dropped without allocating.
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "eventloop.loop.name" && tag.Value is string name && name == _loopName)
            {
                lock (_values)
                {
                    if (!_values.TryGetValue(instrument.Name, out List<double>? list))
                    {
                        _values[instrument.Name] = list = [];
                    }

                    list.Add(value);
                }

                return;
            }
        }
    }
}
