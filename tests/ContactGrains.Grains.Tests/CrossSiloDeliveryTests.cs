using Orleans.Core.Internal;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Delivery;
using Microsoft.Extensions.Logging.Abstractions;

namespace ContactGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class CrossSiloDeliveryTests(ClusterFixture fixture)
{
    private const int ConversationCount = 20;

    [Fact]
    public async Task Conversations_on_the_other_silo_deliver_every_reply_and_push_to_the_connection_even_after_deactivation()
    {
        // The adapter connection lives on silo 0; its conversations are activated on silo 1.
        var connectionSilo = fixture.SiloGrainFactory(0);
        var otherSilo = fixture.SiloGrainFactory(1);
        var otherSiloAddress = fixture.Cluster.Silos[1].SiloAddress;
        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(connectionSilo, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        var remote = new List<string>();
        for (var attempt = 0; attempt < 400 && remote.Count < ConversationCount; attempt++)
        {
            var thread = otherSilo.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
            var started = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), null))!;
            var location = await management.GetActivationAddress(otherSilo.GetGrain<IConversationGrain>(started.ConversationId));
            if (otherSiloAddress.Equals(location))
            {
                remote.Add(started.ConversationId);
            }
        }

        Assert.Equal(ConversationCount, remote.Count);

        await Task.WhenAll(remote.Select(async (id, index) =>
        {
            var conversation = connectionSilo.GetGrain<IConversationGrain>(id);
            for (var turn = 0; turn < 3; turn++)
            {
                var question = TestData.Questions[(index + turn) % TestData.Questions.Length].Text;
                var result = await conversation.ReceiveCustomerMessage(TestData.Message($"{id}-{turn}", question), feed.Reference);
                Assert.Equal(InboundOutcome.Accepted, result.Outcome);
                feed.Post(id, result.Entries[0].Sequence - 1, result.Entries, result.LastSequence);
            }
        }));

        // The delivery target is stored with the conversation: even after its activation is
        // gone, a re-activated conversation pushes to the live connection.
        foreach (var id in remote)
        {
            await otherSilo.GetGrain<IConversationGrain>(id).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        }

        // The silos' activation catalogs (not the directory cache) must no longer hold any of them.
        var conversationIds = remote.Select(id => otherSilo.GetGrain<IConversationGrain>(id).GetGrainId()).ToHashSet();
        var stillActive = int.MaxValue;
        for (var attempt = 0; attempt < 200 && stillActive > 0; attempt++)
        {
            var activations = await management.GetDetailedGrainStatistics();
            stillActive = activations.Count(a => conversationIds.Contains(a.GrainId));
            if (stillActive > 0)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(0, stillActive);

        // Entries nobody received in a response are pushed: close every conversation from elsewhere.
        await Task.WhenAll(remote.Select(id =>
            fixture.Cluster.Client.GetGrain<IConversationGrain>(id).Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "done")));

        // Per conversation: the start, 3 questions, 3 answers and the close, at sequences 1..8.
        await collector.WaitForCountAsync(ConversationCount * 8);
        foreach (var (id, index) in remote.Select((id, index) => (id, index)))
        {
            var entries = collector.For(id);
            Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), entries.Select(e => e.Sequence));
            Assert.Equal(StatusKind.Started, entries[0].Status!.Kind);
            for (var turn = 0; turn < 3; turn++)
            {
                var expected = TestData.Questions[(index + turn) % TestData.Questions.Length];
                Assert.Equal(expected.Text, entries[1 + (turn * 2)].Message!.Text);
                Assert.Equal(expected.Intent, entries[2 + (turn * 2)].Message!.Bot!.IntentId);
            }

            Assert.Equal(StatusKind.Closed, entries[^1].Status!.Kind);
        }

        Assert.Equal(ConversationCount * 8, collector.Entries.Count);
    }
}
