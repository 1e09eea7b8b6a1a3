using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EventLoop.Net;

namespace EventLoop.Tests.Net;

public sealed class SslStreamTests
{
    [Fact]
    public void AsStream_SslStreamBothEnds_HandshakeAndEcho()
    {
        using X509Certificate2 certificate = CreateCertificate();
        using Loop loop = LoopNet.Create();
        string reply = LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            Greenlet server = loop.Spawn(async () =>
            {
                using StreamConnection accepted = await listener.AcceptAsync();
                await using var tls = new SslStream(accepted.AsStream());
                await tls.AuthenticateAsServerAsync(certificate);
                byte[] buffer = new byte[64];
                int n = await tls.ReadAsync(buffer);
                await tls.WriteAsync(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(buffer, 0, n).ToUpperInvariant()));
                await tls.ShutdownAsync();
            });

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            await using var clientTls = new SslStream(client.AsStream(), leaveInnerStreamOpen: true, (_, _, _, _) => true);
            await clientTls.AuthenticateAsClientAsync("localhost");
            await clientTls.WriteAsync("secret"u8.ToArray());
            byte[] answer = new byte[64];
            int read = await clientTls.ReadAsync(answer);
            await server;
            return Encoding.ASCII.GetString(answer, 0, read);
        });

        Assert.Equal("SECRET", reply);
    }

    [Fact]
    public void KillAndMoveOnAfter_GreenletInsideSslStreamRead_WithNoTokenPassed_AreReached()
    {
        using X509Certificate2 certificate = CreateCertificate();
        using Loop loop = LoopNet.Create();
        (bool killedNotSucceeded, Exception? killError, bool movedOn) = LoopNet.Run(loop, async () =>
        {
            using StreamListener listener = loop.Listen(LoopNet.AnyPort);
            var silent = new LoopEvent(loop);
            Greenlet server = loop.Spawn(async () =>
            {
                // Completes the handshake, then never writes: the client's reads wait.
                using StreamConnection accepted = await listener.AcceptAsync();
                await using var tls = new SslStream(accepted.AsStream());
                await tls.AuthenticateAsServerAsync(certificate);
                await silent.WaitAsync();
            });

            using StreamConnection client = await loop.ConnectAsync(listener.LocalEndPoint);
            await using var clientTls = new SslStream(client.AsStream(), leaveInnerStreamOpen: true, (_, _, _, _) => true);
            await clientTls.AuthenticateAsClientAsync("localhost");

            byte[] buffer = new byte[64];
            Greenlet reader = loop.Spawn(async () => await clientTls.ReadAsync(buffer));
            await loop.Sleep(TimeSpan.FromMilliseconds(50));
            reader.Kill();
            await reader.Task.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(20));

            bool done = await loop.MoveOnAfter(TimeSpan.FromMilliseconds(100), async () => _ = await clientTls.ReadAsync(buffer));
            silent.Set();
            server.Kill();
            return (!reader.Succeeded, reader.Exception, !done);
        });

        Assert.True(killedNotSucceeded);
        Assert.IsAssignableFrom<OperationCanceledException>(killError);
        Assert.True(movedOn);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
