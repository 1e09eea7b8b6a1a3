using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EventLoop.Internal;

/// <summary>
/// The one intrusive doubly linked list of the loop: greenlets alive on a loop, the waits a
/// greenlet is suspended in, the waiters queued on a primitive. The links live in the nodes
/// (<see cref="IntrusiveLinks{T}"/>), so adding and removing allocate nothing and a node removes
/// itself in O(1) when it is cancelled. Circular: the head's Prev is the tail, so the list is one
/// reference wide (a greenlet keeps one per list it owns). A mutable struct: keep it in a field,
/// never copy it. Loop-thread only.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
/// <typeparam name="TLinks">Finds the node's links for this list.</typeparam>
internal struct IntrusiveList<T, TLinks>
    where T : class
    where TLinks : struct, ILinksAccessor<T>
{
    private T? _head;

    /// <summary>The oldest node (FIFO order), or null when empty.</summary>
    public readonly T? First => _head;

    /// <summary>True when no node is linked.</summary>
    public readonly bool IsEmpty => _head is null;

    /// <summary>True when <paramref name="node"/> is in a list of this kind (this one, when nodes never move between lists).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsLinked(T node) => TLinks.Of(node).Next is not null;

    /// <summary>The node after <paramref name="node"/>, or null at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T? NextOf(T node)
    {
        T? next = TLinks.Of(node).Next;
        return ReferenceEquals(next, _head) ? null : next;
    }

    /// <summary>Appends <paramref name="node"/>, which must not be linked.</summary>
    public void AddLast(T node)
    {
        T? head = _head;
        LinkBefore(node, head);
        _head = head ?? node;
    }

    /// <summary>Prepends <paramref name="node"/>, which must not be linked.</summary>
    public void AddFirst(T node)
    {
        LinkBefore(node, _head);
        _head = node;
    }

    /// <summary>Unlinks <paramref name="node"/>; false when it was not linked. The caller knows it is not in another list of this kind.</summary>
    public bool Remove(T node)
    {
        ref IntrusiveLinks<T> links = ref TLinks.Of(node);
        T? next = links.Next;
        if (next is null)
        {
            return false;
        }

        if (ReferenceEquals(next, node))
        {
            _head = null;
        }
        else
        {
            T prev = links.Prev!;
            TLinks.Of(prev).Next = next;
            TLinks.Of(next).Prev = prev;
            if (ReferenceEquals(_head, node))
            {
                _head = next;
            }
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

    // Links node between the tail and head (alone, it links to itself): the tail of the circle,
    // which is also the place before the head.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LinkBefore(T node, T? head)
    {
        ref IntrusiveLinks<T> links = ref TLinks.Of(node);
        Debug.Assert(links.Next is null, "node already linked");
        if (head is null)
        {
            links.Prev = node;
            links.Next = node;
            return;
        }

        ref IntrusiveLinks<T> headLinks = ref TLinks.Of(head);
        T tail = headLinks.Prev!;
        links.Prev = tail;
        links.Next = head;
        TLinks.Of(tail).Next = node;
        headLinks.Prev = node;
    }
}
