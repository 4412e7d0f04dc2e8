using ContactGrains.Contracts;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// One partition of the open-conversation index: the newest report of a conversation wins, and a
/// late report from the silo a conversation left never brings a closed one back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OpenConversationsIndexTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task The_newest_report_wins_and_a_closed_conversation_stays_closed()
    {
        // A partition key no other test uses: the index is shared by the whole cluster.
        var index = Grains.GetGrain<IOpenConversationsGrain>(1000 + Random.Shared.Next(1000));
        var id = $"idx-{Guid.NewGuid():N}";

        await index.Apply([Report(id, Owner.Bot, version: 1), Report("other-" + id, Owner.Bot, version: 1)], []);
        await index.Apply([Report(id, new Owner(OwnerKind.Queue, "billing:en"), version: 2)], []);
        await index.Apply([Report(id, Owner.Bot, version: 1)], []); // late, from the silo it left
        var queued = await index.List(OwnerKind.Queue, 10);

        Assert.Equal([id], queued.Conversations.Select(c => c.ConversationId));
        Assert.Equal(new OwnerCounts(1, 1, 0), await index.Count());

        await index.Apply([], [new ClosedConversation(id, 3)]);
        await index.Apply([Report(id, new Owner(OwnerKind.Agent, "ann"), version: 3)], []); // a report of the same length as the close: stale
        Assert.Equal(new OwnerCounts(1, 0, 0), await index.Count());

        var all = await index.List(owner: null, maxResults: 1);
        Assert.Equal((1, 1), (all.Conversations.Length, all.Total));
    }

    private static OpenConversation Report(string id, Owner owner, int version) =>
        new(id, "webchat", "Ada", "en", "invoice_copy", owner, Start.AddMinutes(version), "new-conversation", Start, version);
}
