namespace EventLoop.Internal;

/// <summary>
/// Finds the <see cref="IntrusiveLinks{T}"/> field of a node for one list. Implemented by an empty
/// struct per field, so the list's code is specialised for it and the access is a field load,
/// with no interface dispatch on the hot path.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
internal interface ILinksAccessor<T>
    where T : class
{
    /// <summary>The links of <paramref name="node"/> for this list.</summary>
    static abstract ref IntrusiveLinks<T> Of(T node);
}
