using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// Healthy while this silo is an Active member of its cluster: a load balancer stops sending
/// adapters to a silo that is still joining, shutting down, or was declared dead by the others.
/// </summary>
internal sealed class SiloHealthCheck(ILocalSiloDetails localSilo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(localSilo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {localSilo.SiloAddress} is active.")
            : HealthCheckResult.Unhealthy($"Silo {localSilo.SiloAddress} is {status}, not active in its cluster."));
    }
}
