using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LongConversationTests(ClusterFixture fixture)
{
    private const int Messages = 150;

    [Fact]
    public async Task Long_timeline_reads_back_exactly_across_sealed_segments()
    {
        var grains = fixture.Cluster.Client;
        var thread = grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("long")));
        var id = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), null))!.ConversationId;
        var conversation = grains.GetGrain<IConversationGrain>(id);
        for (var i = 0; i < Messages; i++)
        {
            var result = await conversation.ReceiveCustomerMessage(TestData.Message($"long-{i}", TestData.Questions[i % TestData.Questions.Length].Text), null);
            Assert.Equal(InboundOutcome.Accepted, result.Outcome);
        }

        const long last = 1 + (2 * Messages);
        Assert.Equal(last, (await conversation.GetSnapshot()).LastSequence);

        // Every starting point, including segment boundaries (32, 64, ...) and the live window.
        foreach (var after in new long[] { 0, 1, 31, 32, 33, 63, 64, 100, 200, 255, 256, 290, last - 1, last })
        {
            var page = await conversation.GetTimeline(TestData.Channel, after, 70);
            var expected = Enumerable.Range((int)after + 1, (int)Math.Min(70, last - after)).Select(s => (long)s);
            Assert.Equal(expected, page.Entries.Select(e => e.Sequence));
            Assert.All(page.Entries, e => Assert.Equal(id, e.ConversationId));
        }

        var all = await conversation.GetTimeline(TestData.Channel, 0, ConversationLimits.MaxPageSize);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(s => (long)s), all.Entries.Select(e => e.Sequence));
        Assert.Equal("long-0", all.Entries[1].Message!.AdapterMessageId);
        Assert.Equal(TestData.Questions[(Messages - 1) % TestData.Questions.Length].Intent, all.Entries[^1].Message!.Bot!.IntentId);

        // The oldest segment is sealed and readable on its own.
        var firstSegment = await grains.GetGrain<IConversationSegmentGrain>(GrainKeys.Segment(id, 0)).Read();
        Assert.Equal(Enumerable.Range(1, ConversationGrain.SegmentSize).Select(s => (long)s), firstSegment.Select(e => e.Sequence));

        // A resend of the very first message is still recognised.
        var resend = await conversation.ReceiveCustomerMessage(TestData.Message("long-0", "Where is my refund?"), null);
        Assert.Equal(InboundOutcome.Duplicate, resend.Outcome);
        Assert.Equal(2, resend.Sequence);
    }
}
