using System.Net.Sockets;

namespace EventLoop.Net.Internal;

/// <summary>
/// The file of a pathname Unix socket that a listener or a datagram socket binds: a stale one is
/// replaced before the bind, and the socket's own is removed when it closes.
/// </summary>
internal static class UnixSocketFile
{
    /// <summary>
    /// Returns the file path of a pathname socket (null for an abstract one) after removing a stale
    /// socket file left by a process that died without cleaning up. Stale means a socket file
    /// nobody is bound to any more: a probe connect of <paramref name="probeType"/> is refused. A
    /// live socket is left alone, and so is anything that is not a socket (connect refuses those
    /// too): bind then reports AddressAlreadyInUse, as asyncio's create_unix_server removes only a
    /// socket.
    /// </summary>
    /// <param name="endPoint">The address to bind.</param>
    /// <param name="probeType">The type of the socket about to be bound.</param>
    /// <returns>The path to remove when the socket closes, or null.</returns>
    public static string? Prepare(UnixDomainSocketEndPoint endPoint, SocketType probeType)
    {
        string path = endPoint.ToString();
        if (path.Length == 0 || path[0] == '@' || path[0] == '\0')
        {
            return null;
        }

        if (!File.Exists(path) || !SocketPal.IsSocketFile(path))
        {
            return path;
        }

        if (SocketPal.CreateSocket(AddressFamily.Unix, probeType, out int probe) == SocketError.Success)
        {
            SocketError outcome = SocketPal.Connect(probe, endPoint);
            SocketPal.Close(probe);
            if (outcome == SocketError.ConnectionRefused)
            {
                File.Delete(path);
            }
        }

        return path;
    }

    /// <summary>Removes the socket file at <paramref name="path"/> (nothing when null); never throws.</summary>
    /// <param name="path">What <see cref="Prepare"/> returned.</param>
    public static void Delete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Someone else removed or replaced it; nothing of ours is left to clean.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise: the directory is not ours to clean any more.
        }
    }
}
