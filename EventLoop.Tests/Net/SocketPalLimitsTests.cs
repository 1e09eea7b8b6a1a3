using System.Globalization;
using System.Net.Sockets;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

[Collection(DescriptorCountingCollection.Name)]
public sealed class SocketPalLimitsTests : NativeSocketTest
{
    [Fact]
    public void GetOpenFileLimit_Always_SoftIsPositiveAndNotAboveHard()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong soft, out ulong hard));

        Assert.True(soft > 0);
        Assert.True(soft <= hard);
    }

    [Fact]
    public void SetOpenFileLimit_CurrentValue_Succeeds()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong soft, out _));

        Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(soft));

        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong after, out _));
        Assert.Equal(soft, after);
    }

    [Fact]
    public void SetOpenFileLimit_AboveHard_ReturnsInvalidArgument()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out _, out ulong hard));
        if (hard == ulong.MaxValue)
        {
            return; // unlimited: nothing is above it
        }

        Assert.Equal(SocketError.InvalidArgument, SocketPal.SetOpenFileLimit(hard + 1));
    }

    [Fact]
    public void CreateSocket_AtDescriptorLimit_ReturnsTooManyOpenSockets()
    {
        Assert.Equal(SocketError.Success, SocketPal.GetOpenFileLimit(out ulong original, out _));

        // RLIMIT_NOFILE bounds descriptor numbers, and the kernel hands out the lowest free one, so a limit
        // just above the highest open descriptor leaves room only for the holes below it plus a few more.
        int highest = Directory.GetFiles("/proc/self/fd").Max(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture));
        List<int> created = [];
        SocketError result = SocketError.Success;
        Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit((ulong)highest + 4));
        try
        {
            // Keep the lowered limit in force for as short a time as possible: the runtime's own threads share it.
            while (result == SocketError.Success && created.Count < 100_000)
            {
                result = SocketPal.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, out int fd);
                if (fd >= 0)
                {
                    created.Add(fd);
                }
            }
        }
        finally
        {
            Assert.Equal(SocketError.Success, SocketPal.SetOpenFileLimit(original));
            foreach (int fd in created)
            {
                SocketPal.Close(fd);
            }
        }

        Assert.Equal(SocketError.TooManyOpenSockets, result);
        Assert.NotEmpty(created);
        AssertNoFdLeak();
    }
}
