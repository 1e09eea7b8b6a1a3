using System.Diagnostics.Tracing;
using System.Runtime.InteropServices;

namespace EventLoop.Tests;

/// <summary>
/// Counts pinned GC handles the process creates over a window, from the runtime's own
/// <c>SetGCHandle</c> events (its GC-handle keyword). The runtime delivers those events to an
/// in-process listener on its own thread, a little later, so a window is closed by a marker
/// handle: once the marker's event has arrived, every handle created before it has been counted.
/// The runtime reuses a freed handle's slot, so a marker is told apart by its handle and its
/// object together.
/// </summary>
internal sealed class PinnedHandleCounter : EventListener
{
    private const EventKeywords GCHandleKeyword = (EventKeywords)0x2;
    private const int PinnedKind = 3; // HNDTYPE_PINNED

    private readonly object _gate = new();
    private List<(byte[] Target, long Handle, long Object)> _markers = [];
    private bool _markerSeen;
    private int _count;

    /// <summary>Opens a window: counting starts once this call returns.</summary>
    public void Start() => Mark();

    /// <summary>Closes the window: the pinned handles created since <see cref="Start"/>.</summary>
    public int Stop() => Mark();

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Informational, GCHandleKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName != "SetGCHandle" || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        long handle = Number(eventData, "HandleID");
        long target = Number(eventData, "ObjectID");
        long kind = Number(eventData, "Kind");
        lock (_gate)
        {
            if (_markers.Exists(m => m.Handle == handle && m.Object == target))
            {
                _markerSeen = true; // a marker of an earlier attempt counts too: it came after the window's work
                Monitor.PulseAll(_gate);
            }
            else if (kind == PinnedKind)
            {
                _count++;
            }
        }
    }

    // Pointer fields arrive as IntPtr or UIntPtr, which Convert does not take.
    private static long Number(EventWrittenEventArgs eventData, string name) =>
        eventData.Payload![eventData.PayloadNames!.IndexOf(name)] switch
        {
            IntPtr pointer => pointer,
            UIntPtr pointer => (long)(ulong)pointer,
            object value => Convert.ToInt64(value),
            null => 0,
        };

    // Creates marker handles until one's event arrives (the first events of a new listener may be
    // lost while the runtime starts its session); returns the count before it and resets it.
    private int Mark()
    {
        var markers = new List<(byte[] Target, long Handle, long Object)>(); // kept alive: distinct objects
        DateTime giveUp = DateTime.UtcNow.AddSeconds(30);
        lock (_gate)
        {
            _markerSeen = false;
            _markers = markers;
            while (!_markerSeen)
            {
                if (DateTime.UtcNow >= giveUp)
                {
                    throw new TimeoutException("The runtime's GC-handle events did not arrive within 30 s.");
                }

                byte[] target = new byte[1];
                GCHandle marker = GCHandle.Alloc(target, GCHandleType.Pinned);
                // The runtime tags pinned handles in the low bit; an array's data follows its type and length.
                markers.Add((target, GCHandle.ToIntPtr(marker) & ~1L, marker.AddrOfPinnedObject() - (2 * IntPtr.Size)));
                marker.Free();
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(200));
            }

            int count = _count;
            _count = 0;
            return count;
        }
    }
}
