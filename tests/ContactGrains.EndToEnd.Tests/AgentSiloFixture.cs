namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The real silo with routing timings shortened so that offer timeouts and the disconnect grace
/// period pass within a test. Bullseye widening keeps its defaults, so it does not interfere.
/// </summary>
public sealed class AgentSiloFixture : SiloFixture
{
    public static readonly TimeSpan OfferTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(2);

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("ContactGrains:Routing:OfferTimeout", OfferTimeout.ToString()),
        new("ContactGrains:Routing:DisconnectGracePeriod", GracePeriod.ToString()),
        new("ContactGrains:Routing:HeartbeatInterval", "00:00:00.500"),
        new("ContactGrains:Routing:HeartbeatTimeout", "00:00:03"),
        new("ContactGrains:Routing:AnnounceInterval", "00:00:01"),
    ];
}

[CollectionDefinition(Name)]
public sealed class AgentSiloCollection : ICollectionFixture<AgentSiloFixture>
{
    public const string Name = "agent-silo";
}
