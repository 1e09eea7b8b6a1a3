using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace EventLoop.Net.Internal;

/// <summary>
/// The one place that turns a <see cref="SocketError"/> from <see cref="SocketPal"/> into a
/// <see cref="SocketException"/> at the public API boundary. Named apart from Core's ThrowHelper so
/// both namespaces can be imported together.
/// </summary>
internal static class NetThrowHelper
{
    /// <summary>Throws <see cref="CreateSocketException"/>'s exception.</summary>
    /// <param name="error">The failure; its value becomes <see cref="SocketException.SocketErrorCode"/>.</param>
    /// <param name="operation">What failed, as a phrase the endpoint can follow ("connect to", "bind", "accept on").</param>
    /// <param name="endPoint">The address involved, if any.</param>
    /// <exception cref="SocketException">Always.</exception>
    [DoesNotReturn]
    [StackTraceHidden]
    internal static void ThrowSocketException(SocketError error, string operation, EndPoint? endPoint = null) =>
        throw CreateSocketException(error, operation, endPoint);

    /// <summary>
    /// Builds a plain <see cref="SocketException"/> (so callers can catch or assert the exact type) whose
    /// <see cref="SocketException.SocketErrorCode"/> is <paramref name="error"/> and whose message names the
    /// operation and endpoint, e.g. "connect to 127.0.0.1:80 failed: Connection refused". For faulting a
    /// pending operation without throwing.
    /// </summary>
    /// <param name="error">The failure.</param>
    /// <param name="operation">What failed.</param>
    /// <param name="endPoint">The address involved, if any.</param>
    /// <returns>The exception, not thrown.</returns>
    internal static SocketException CreateSocketException(SocketError error, string operation, EndPoint? endPoint = null)
    {
        // The runtime's own message for the code is the strerror text ("Connection refused").
        string reason = new SocketException((int)error).Message;
        string message = endPoint is null
            ? $"{operation} failed: {reason}"
            : $"{operation} {Describe(endPoint)} failed: {reason}";
        return new SocketException((int)error, message);
    }

    private static string Describe(EndPoint endPoint) => endPoint switch
    {
        UnixDomainSocketEndPoint unix => $"unix:{unix}",
        _ => endPoint.ToString() ?? endPoint.GetType().Name,
    };
}
