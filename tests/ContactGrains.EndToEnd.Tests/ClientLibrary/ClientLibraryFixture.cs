namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>A silo of its own for the client library's tests: they sign agents in and cut connections, which other tests must not see.</summary>
public sealed class ClientLibraryFixture : SiloFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("ContactGrains:Routing:DisconnectGracePeriod", "00:00:20"),
    ];
}

[CollectionDefinition(Name)]
public sealed class ClientLibraryCollection : ICollectionFixture<ClientLibraryFixture>
{
    public const string Name = "client-library";
}
