namespace EventLoop.Internal;

/// <summary>
/// The two links a node of an <see cref="IntrusiveList{T, TLinks}"/> carries, embedded as a field of
/// the node itself, so linking and unlinking allocate nothing. A node can sit in several lists at
/// once with one field per list. Null <see cref="Next"/> means "not in a list". A mutable struct:
/// keep it in a field, reach it by reference, never copy it.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
internal struct IntrusiveLinks<T>
    where T : class
{
    internal T? Prev;
    internal T? Next;
}
