using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace ContactGrains.EndToEnd.Tests;

[Collection(SiloCollection.Name)]
public sealed class DiscoveryTests(SiloFixture silo)
{
    [Fact]
    public async Task Standard_health_service_reports_serving()
    {
        var health = new Health.HealthClient(silo.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Server_reflection_lists_the_channel_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(silo.Channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("contactgrains.v1.ChannelService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
