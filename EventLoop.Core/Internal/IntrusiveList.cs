using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EventLoop.Internal;

/// <summary>
/// The one intrusive doubly linked list of the loop: greenlets alive on a loop, the waits a
/// greenlet is suspended in, the waiters queued on a primitive. The links live in the nodes
/// (<see cref="IntrusiveLinks{T}"/>), so adding and removing allocate nothing and a node removes
/// itself in O(1) when it is canceled. One reference wide (a greenlet keeps one per list it owns):
/// the head's Prev points to the tail, which makes appending O(1), while the tail's Next stays
/// null, so adding at the head or removing never touches the far end of a long list (a cold
/// greenlet). A mutable struct: keep it in a field, never copy it. Loop-thread only.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
/// <typeparam name="TLinks">Finds the node's links for this list.</typeparam>
internal struct IntrusiveList<T, TLinks>
    where T : class
    where TLinks : struct, ILinksAccessor<T>
{
    private T? _head;

    /// <summary>The first node, or null when empty.</summary>
    public readonly T? First => _head;

    /// <summary>True when no node is linked.</summary>
    public readonly bool IsEmpty => _head is null;

    /// <summary>True when <paramref name="node"/> is in a list of this kind (every linked node has a Prev).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsLinked(T node) => TLinks.Of(node).Prev is not null;

    /// <summary>The node after <paramref name="node"/>, or null at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T? NextOf(T node) => TLinks.Of(node).Next;

    /// <summary>Appends <paramref name="node"/>, which must not be linked.</summary>
    public void AddLast(T node)
    {
        ref IntrusiveLinks<T> links = ref TLinks.Of(node);
        Debug.Assert(links.Prev is null, "node already linked");
        links.Next = null;
        T? head = _head;
        if (head is null)
        {
            links.Prev = node;
            _head = node;
            return;
        }

        ref IntrusiveLinks<T> headLinks = ref TLinks.Of(head);
        T tail = headLinks.Prev!;
        TLinks.Of(tail).Next = node;
        links.Prev = tail;
        headLinks.Prev = node;
    }

    /// <summary>Prepends <paramref name="node"/>, which must not be linked.</summary>
    public void AddFirst(T node)
    {
        ref IntrusiveLinks<T> links = ref TLinks.Of(node);
        Debug.Assert(links.Prev is null, "node already linked");
        T? head = _head;
        links.Next = head;
        if (head is null)
        {
            links.Prev = node;
        }
        else
        {
            ref IntrusiveLinks<T> headLinks = ref TLinks.Of(head);
            links.Prev = headLinks.Prev; // the tail
            headLinks.Prev = node;
        }

        _head = node;
    }

    /// <summary>Unlinks <paramref name="node"/>; false when it was not linked. The caller knows it is not in another list of this kind.</summary>
    public bool Remove(T node)
    {
        ref IntrusiveLinks<T> links = ref TLinks.Of(node);
        T? prev = links.Prev;
        if (prev is null)
        {
            return false;
        }

        T? next = links.Next;
        if (ReferenceEquals(node, _head))
        {
            _head = next;
            if (next is not null)
            {
                TLinks.Of(next).Prev = prev; // the tail
            }
        }
        else
        {
            TLinks.Of(prev).Next = next;
            TLinks.Of(next ?? _head!).Prev = prev; // the next node's, or the head's tail pointer
        }

        links.Prev = null;
        links.Next = null;
        return true;
    }

    /// <summary>Unlinks and returns the first node, or null when empty.</summary>
    public T? RemoveFirst()
    {
        T? first = _head;
        if (first is not null)
        {
            Remove(first);
        }

        return first;
    }
}
