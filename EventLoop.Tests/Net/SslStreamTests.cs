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

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
