using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using EventLoop.Net.Interop;

namespace EventLoop.Net;

// Design note: native socket addresses are written and read byte by byte here rather than
// through System.Net.SocketAddress, whose layout is an implementation detail and whose use
// allocates. Linux layouts (all little-endian hosts .NET runs on, but written in host order
// where the kernel expects host order, so a big-endian host would still be right):
//   sockaddr_in  (16 bytes): u16 family (host) | u16 port (network) | 4-byte address | 8 zero bytes
//   sockaddr_in6 (28 bytes): u16 family (host) | u16 port (network) | u32 flowinfo (network)
//                            | 16-byte address | u32 scope_id (host)
//   sockaddr_un  (up to 110): u16 family (host) | path bytes; a pathname is NUL-terminated and its
//                            length counts the NUL; an abstract name starts with a NUL byte and its
//                            length is exactly 2 + name length (no terminator).

/// <summary>Converts between <see cref="EndPoint"/>s and native Linux <c>sockaddr</c> bytes.</summary>
internal static class SocketAddressPal
{
    /// <summary>Buffer size that fits every address family (<c>sizeof(struct sockaddr_storage)</c>).</summary>
    internal const int MaxLength = Libc.SockaddrStorageSize;

    /// <summary><c>sizeof(struct sockaddr_in)</c>.</summary>
    internal const int IPv4Length = 16;

    /// <summary><c>sizeof(struct sockaddr_in6)</c>.</summary>
    internal const int IPv6Length = 28;

    /// <summary>Offset of <c>sun_path</c> in <c>sockaddr_un</c>.</summary>
    internal const int UnixPathOffset = 2;

    /// <summary><c>sizeof(sun_path)</c> on Linux.</summary>
    internal const int UnixPathCapacity = 108;

    /// <summary>
    /// Writes <paramref name="endPoint"/> as a native <c>sockaddr</c> at the start of <paramref name="destination"/>.
    /// Supports <see cref="IPEndPoint"/> (IPv4 and IPv6 with scope id) and <see cref="UnixDomainSocketEndPoint"/>
    /// (pathnames and abstract names, given with a leading <c>'\0'</c>). Never throws.
    /// </summary>
    /// <param name="endPoint">The address to encode.</param>
    /// <param name="destination">At least <see cref="MaxLength"/> bytes is always enough.</param>
    /// <param name="length">The native address length (<c>socklen_t</c>) on success, else 0.</param>
    /// <returns>
    /// <see cref="SocketError.Success"/>; <see cref="SocketError.AddressFamilyNotSupported"/> for any other
    /// endpoint type (for example a <see cref="DnsEndPoint"/>, which must be resolved first);
    /// <see cref="SocketError.InvalidArgument"/> when <paramref name="destination"/> is too small or a Unix path does
    /// not fit <c>sun_path</c>.
    /// </returns>
    internal static SocketError Write(EndPoint endPoint, Span<byte> destination, out int length)
    {
        length = 0;
        switch (endPoint)
        {
            case IPEndPoint ip:
                return WriteIP(ip, destination, out length);
            case UnixDomainSocketEndPoint unix:
                return WriteUnix(unix, destination, out length);
            default:
                return SocketError.AddressFamilyNotSupported;
        }
    }

    /// <summary>
    /// Reads a native <c>sockaddr</c> of the exact length the kernel reported. Returns null for an unnamed
    /// Unix socket (the peer of an unbound client, either end of a socketpair), which
    /// <see cref="UnixDomainSocketEndPoint"/> cannot represent, and for unknown families or truncated input.
    /// IPv4-mapped IPv6 addresses are returned as IPv6 (<c>::ffff:a.b.c.d</c>), as the kernel reports them.
    /// </summary>
    /// <param name="address">The address bytes, sliced to the length returned by the system call.</param>
    internal static EndPoint? Read(ReadOnlySpan<byte> address)
    {
        if (address.Length < 2)
        {
            return null;
        }

        int family = MemoryMarshal.Read<ushort>(address);
        switch (family)
        {
            case Libc.AF_INET when address.Length >= 8:
                return new IPEndPoint(
                    new IPAddress(address.Slice(4, 4)),
                    BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
            case Libc.AF_INET6 when address.Length >= IPv6Length:
                return new IPEndPoint(
                    new IPAddress(address.Slice(8, 16), MemoryMarshal.Read<uint>(address[24..])),
                    BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
            case Libc.AF_UNIX:
                return ReadUnix(address[UnixPathOffset..]);
            default:
                return null;
        }
    }

    /// <summary>Reads the address family of a native <c>sockaddr</c>, or -1 if it is too short.</summary>
    /// <param name="address">The address bytes.</param>
    internal static int GetFamily(ReadOnlySpan<byte> address) =>
        address.Length < 2 ? -1 : MemoryMarshal.Read<ushort>(address);

    /// <summary>
    /// True when <paramref name="address"/> is the native form of <paramref name="endPoint"/>. Lets a datagram
    /// receiver keep the <see cref="EndPoint"/> it built for the previous packet and allocate a new one only when
    /// the sender changes. Never allocates (IPv6 flow labels make otherwise equal addresses compare unequal,
    /// which only costs an allocation).
    /// </summary>
    /// <param name="address">Native bytes, sliced to the reported length.</param>
    /// <param name="endPoint">A previously decoded endpoint, or null.</param>
    internal static bool Matches(ReadOnlySpan<byte> address, EndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return false;
        }

        Span<byte> encoded = stackalloc byte[MaxLength];
        return Write(endPoint, encoded, out int length) == SocketError.Success
            && address.SequenceEqual(encoded[..length]);
    }

    private static SocketError WriteIP(IPEndPoint endPoint, Span<byte> destination, out int length)
    {
        IPAddress ip = endPoint.Address;
        bool v6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        length = v6 ? IPv6Length : IPv4Length;
        if (destination.Length < length)
        {
            length = 0;
            return SocketError.InvalidArgument;
        }

        Span<byte> sockaddr = destination[..length];
        sockaddr.Clear();
        MemoryMarshal.Write(sockaddr, (ushort)(v6 ? Libc.AF_INET6 : Libc.AF_INET));
        BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], (ushort)endPoint.Port);
        if (v6)
        {
            // sin6_flowinfo stays zero: we never set flow labels.
            ip.TryWriteBytes(sockaddr.Slice(8, 16), out _);
            MemoryMarshal.Write(sockaddr[24..], (uint)ip.ScopeId);
        }
        else
        {
            ip.TryWriteBytes(sockaddr.Slice(4, 4), out _);
        }

        return SocketError.Success;
    }

    private static SocketError WriteUnix(UnixDomainSocketEndPoint endPoint, Span<byte> destination, out int length)
    {
        length = 0;

        // UnixDomainSocketEndPoint has no public Path; ToString() returns it, except that an abstract
        // name ("\0name") is rendered as "@name", which a relative path "@name" would also produce.
        // Only in that rare case ask the endpoint for its own encoding to tell the two apart.
        string text = endPoint.ToString();
        if (text.StartsWith('@'))
        {
            return WriteSerializedUnix(endPoint, destination, out length);
        }

        int pathBytes = Encoding.UTF8.GetByteCount(text);
        int total = UnixPathOffset + pathBytes + 1;
        if (pathBytes == 0 || pathBytes >= UnixPathCapacity || destination.Length < total)
        {
            return SocketError.InvalidArgument;
        }

        MemoryMarshal.Write(destination, (ushort)Libc.AF_UNIX);
        Encoding.UTF8.GetBytes(text, destination[UnixPathOffset..]);
        destination[total - 1] = 0;
        length = total;
        return SocketError.Success;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static SocketError WriteSerializedUnix(UnixDomainSocketEndPoint endPoint, Span<byte> destination, out int length)
    {
        length = 0;

        // SocketAddress's public surface (Size and Buffer) is the sockaddr_un the runtime would pass to
        // bind: family, then either "\0name" (abstract, no terminator) or "path\0".
        SocketAddress serialized = endPoint.Serialize();
        int size = serialized.Size;
        if (size <= UnixPathOffset || size > UnixPathOffset + UnixPathCapacity || destination.Length < size)
        {
            return SocketError.InvalidArgument;
        }

        serialized.Buffer.Span[..size].CopyTo(destination);
        MemoryMarshal.Write(destination, (ushort)Libc.AF_UNIX);
        length = size;
        return SocketError.Success;
    }

    private static UnixDomainSocketEndPoint? ReadUnix(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty)
        {
            return null;
        }

        if (path[0] == 0)
        {
            // Abstract names are length-delimited and may contain NULs; a lone NUL is an unnamed socket
            // on some kernels' getsockname.
            return path.Length == 1 ? null : new UnixDomainSocketEndPoint("\0" + Encoding.UTF8.GetString(path[1..]));
        }

        int end = path.IndexOf((byte)0);
        return new UnixDomainSocketEndPoint(Encoding.UTF8.GetString(end < 0 ? path : path[..end]));
    }
}
