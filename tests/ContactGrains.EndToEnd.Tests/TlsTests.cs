using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// TLS: an https address in ContactGrains:Urls and a certificate in Kestrel's standard settings
/// (Kestrel:Certificates:Default:Path, :Password) serve the APIs over HTTP/2 with TLS.
/// </summary>
public sealed class TlsTests(TlsTests.Fixture silo) : IClassFixture<TlsTests.Fixture>
{
    [Fact]
    public async Task The_channel_api_is_served_over_tls_with_the_configured_certificate()
    {
        X509Certificate2? presented = null;
        using var grpc = GrpcChannel.ForAddress(silo.Address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions =
                {
                    // The test's own self-signed certificate: trusted by thumbprint, and recorded.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        presented = certificate is null ? null : new X509Certificate2(certificate);
                        return presented?.Thumbprint == silo.Certificate.Thumbprint;
                    },
                },
            },
        });
        var client = ChannelClient.Create(grpc, "webchat");

        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = "tls-1", Conversation = Addresses.Thread(Addresses.Unique("tls")), Customer = Addresses.Customer("c"), Text = "Where is my refund?" },
        });

        Assert.StartsWith("https://", silo.Address, StringComparison.Ordinal);
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        Assert.Equal(silo.Certificate.Thumbprint, presented?.Thumbprint);
    }

    public sealed class Fixture : SiloFixture
    {
        private readonly string _pfx = Path.Combine(Path.GetTempPath(), $"contactgrains-tls-{Guid.NewGuid():N}.pfx");

        public Fixture()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllBytes(_pfx, created.Export(X509ContentType.Pfx, "test"));
            Certificate = X509CertificateLoader.LoadPkcs12FromFile(_pfx, "test");
        }

        public X509Certificate2 Certificate { get; }

        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("ContactGrains:Urls", "https://127.0.0.1:0"),
            new("Kestrel:Certificates:Default:Path", _pfx),
            new("Kestrel:Certificates:Default:Password", "test"),
        ];
    }
}
