using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

/// <summary>Conversations waiting in a queue without agents: their places, and what customers hear.</summary>
[Collection(ClusterCollection.Name)]
public sealed class QueueGrainTests(ClusterFixture fixture)
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task A_waiting_customer_who_moves_up_is_told_the_new_place()
    {
        // security:fr is this test's own queue: no other grain test asks for a human about security in French.
        var first = await AskForHumanAsync();
        var second = await AskForHumanAsync();
        Assert.Equal(1, LastQueued(await ReadAllAsync(first)).QueuePosition);
        var before = await ReadAllAsync(second);
        Assert.Equal(2, LastQueued(before).QueuePosition);

        await first.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");

        var deadline = DateTimeOffset.UtcNow + SafetyTimeout;
        IReadOnlyList<TimelineEntry> after;
        do
        {
            await Task.Delay(100);
            after = await ReadAllAsync(second);
        }
        while (after.Count == before.Count && DateTimeOffset.UtcNow < deadline);

        var moved = Assert.Single(after.Skip(before.Count));
        Assert.Equal(StatusKind.Queued, moved.Status?.Kind);
        Assert.Equal(1, moved.Status!.QueuePosition);
        Assert.StartsWith("Vous avez avancé dans la file d'attente. Position 1", moved.Status.Detail);
        Assert.Equal(new Owner(OwnerKind.Queue, "security:fr"), (await second.GetSnapshot()).Owner);
        await second.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "Done.");
    }

    private async Task<IConversationGrain> AskForHumanAsync()
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust"), "fr"), knownClosedId: null);
        var conversation = Grains.GetGrain<IConversationGrain>(started!.ConversationId);
        // Fraud is human-only: the first message goes to the security queue.
        var handoff = await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Quelqu'un a utilisé ma carte sans mon accord"), null);
        Assert.Equal(StatusKind.Queued, handoff.Entries[^1].Status?.Kind);
        Assert.Equal(OwnershipReasons.SensitiveTopic, (await conversation.GetSnapshot()).Ledger[^1].ReasonCode);
        return conversation;
    }

    private static StatusBody LastQueued(IReadOnlyList<TimelineEntry> timeline) =>
        timeline.Last(e => e.Status?.Kind == StatusKind.Queued).Status!;

    private static async Task<IReadOnlyList<TimelineEntry>> ReadAllAsync(IConversationGrain conversation) =>
        (await conversation.GetTimeline(TestData.Channel, 0, ConversationLimits.MaxPageSize)).Entries;
}
