using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class SocketErrorPalTests
{
    public static TheoryData<int, SocketError> Table => new()
    {
        { 0, SocketError.Success },
        { 1, SocketError.AccessDenied },              // EPERM
        { 2, SocketError.AddressNotAvailable },       // ENOENT
        { 4, SocketError.Interrupted },               // EINTR
        { 9, SocketError.OperationAborted },          // EBADF
        { 11, SocketError.WouldBlock },               // EAGAIN
        { 12, SocketError.NoBufferSpaceAvailable },   // ENOMEM
        { 13, SocketError.AccessDenied },             // EACCES
        { 14, SocketError.Fault },                    // EFAULT
        { 22, SocketError.InvalidArgument },          // EINVAL
        { 23, SocketError.TooManyOpenSockets },       // ENFILE
        { 24, SocketError.TooManyOpenSockets },       // EMFILE
        { 32, SocketError.Shutdown },                 // EPIPE
        { 88, SocketError.NotSocket },                // ENOTSOCK
        { 89, SocketError.DestinationAddressRequired }, // EDESTADDRREQ
        { 90, SocketError.MessageSize },              // EMSGSIZE
        { 91, SocketError.ProtocolType },             // EPROTOTYPE
        { 92, SocketError.ProtocolOption },           // ENOPROTOOPT
        { 93, SocketError.ProtocolNotSupported },     // EPROTONOSUPPORT
        { 94, SocketError.SocketNotSupported },       // ESOCKTNOSUPPORT
        { 95, SocketError.OperationNotSupported },    // EOPNOTSUPP
        { 97, SocketError.AddressFamilyNotSupported }, // EAFNOSUPPORT
        { 98, SocketError.AddressAlreadyInUse },      // EADDRINUSE
        { 99, SocketError.AddressNotAvailable },      // EADDRNOTAVAIL
        { 100, SocketError.NetworkDown },             // ENETDOWN
        { 101, SocketError.NetworkUnreachable },      // ENETUNREACH
        { 102, SocketError.NetworkReset },            // ENETRESET
        { 103, SocketError.ConnectionAborted },       // ECONNABORTED
        { 104, SocketError.ConnectionReset },         // ECONNRESET
        { 105, SocketError.NoBufferSpaceAvailable },  // ENOBUFS
        { 106, SocketError.IsConnected },             // EISCONN
        { 107, SocketError.NotConnected },            // ENOTCONN
        { 108, SocketError.Shutdown },                // ESHUTDOWN
        { 110, SocketError.TimedOut },                // ETIMEDOUT
        { 111, SocketError.ConnectionRefused },       // ECONNREFUSED
        { 112, SocketError.HostDown },                // EHOSTDOWN
        { 113, SocketError.HostUnreachable },         // EHOSTUNREACH
        { 114, SocketError.AlreadyInProgress },       // EALREADY
        { 115, SocketError.InProgress },              // EINPROGRESS
        { 125, SocketError.OperationAborted },        // ECANCELED
        { 5, SocketError.SocketError },               // EIO: no socket meaning
        { 9999, SocketError.SocketError },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void FromErrno_KnownValue_MapsToSocketError(int errno, SocketError expected) =>
        Assert.Equal(expected, SocketErrorPal.FromErrno(errno));

    // The runtime maps a SocketError back to its errno; agreeing with it for the one-to-one pairs checks
    // both our errno constants and that our exceptions carry the NativeErrorCode .NET's own would.
    [Theory]
    [InlineData(11)]
    [InlineData(115)]
    [InlineData(104)]
    [InlineData(111)]
    [InlineData(110)]
    [InlineData(98)]
    [InlineData(99)]
    [InlineData(103)]
    [InlineData(107)]
    [InlineData(113)]
    [InlineData(101)]
    [InlineData(105)]
    [InlineData(13)]
    [InlineData(22)]
    public void FromErrno_OneToOneValue_AgreesWithRuntimeReverseMapping(int errno) =>
        Assert.Equal(errno, new SocketException((int)SocketErrorPal.FromErrno(errno)).NativeErrorCode);
}
