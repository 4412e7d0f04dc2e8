namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The real silo with routing timings shortened so that offer timeouts and the disconnect grace
/// period pass within a test. Bullseye widening keeps its defaults, so it does not interfere.
/// </summary>
/// <remarks>
/// Short, but not so short that a slow machine loses a race against them: tests that hold an offer
/// or a grace period while doing several calls need those calls to finish well within these.
/// Silent-stream detection keeps its default: every stream here ends with a Disconnected call.
/// </remarks>
public sealed class AgentSiloFixture : SiloFixture
{
    public static readonly TimeSpan OfferTimeout = TimeSpan.FromSeconds(6);
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(5);

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("ContactGrains:Routing:OfferTimeout", OfferTimeout.ToString()),
        new("ContactGrains:Routing:DisconnectGracePeriod", GracePeriod.ToString()),
        new("ContactGrains:Routing:HeartbeatInterval", "00:00:00.500"),
        new("ContactGrains:Routing:AnnounceInterval", "00:00:01"),
    ];
}

[CollectionDefinition(Name)]
public sealed class AgentSiloCollection : ICollectionFixture<AgentSiloFixture>
{
    public const string Name = "agent-silo";
}
