using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Delivery;
using Microsoft.Extensions.Logging.Abstractions;

namespace ContactGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ConversationFeedTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.SiloGrainFactory(0);

    /// <summary>A conversation with <paramref name="turns"/> questions answered: 1 + 2 × turns entries.</summary>
    private async Task<(string Id, ImmutableArray<TimelineEntry> Timeline)> ConversationWithTurnsAsync(int turns)
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var id = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), null))!.ConversationId;
        var conversation = Grains.GetGrain<IConversationGrain>(id);
        for (var turn = 0; turn < turns; turn++)
        {
            await conversation.ReceiveCustomerMessage(TestData.Message($"m{turn}", TestData.Questions[turn % TestData.Questions.Length].Text), null);
        }

        var page = await conversation.GetTimeline(TestData.Channel, 0, ConversationLimits.MaxPageSize);
        return (id, page.Entries);
    }

    private static IConversationObserver AsObserver(ConversationFeed feed) => feed;

    [Fact]
    public async Task Out_of_order_pushes_are_delivered_in_sequence_without_duplicates()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(2);
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        feed.Post(id, startAfter: 0, [timeline[0]], knownLast: 1);
        await AsObserver(feed).OnEntries(id, [timeline[3], timeline[4]]);
        await AsObserver(feed).OnEntries(id, [timeline[1], timeline[2]]);
        await AsObserver(feed).OnEntries(id, [timeline[2]]);
        await feed.DrainAsync();

        Assert.Equal([1L, 2L, 3L, 4L, 5L], collector.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Push_that_overtakes_the_response_is_held_until_the_start_is_known()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(2);
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        // The grain pushed 4 and 5 before the response carrying 1..3 reached the connection.
        await AsObserver(feed).OnEntries(id, [timeline[3], timeline[4]]);
        feed.Post(id, startAfter: 0, [timeline[0], timeline[1], timeline[2]], knownLast: 3);
        await feed.DrainAsync();

        Assert.Equal(timeline, collector.Entries);
    }

    [Fact]
    public async Task Closed_conversation_is_not_replayed_by_a_later_resend_ack()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(1);
        var close = await Grains.GetGrain<IConversationGrain>(id).Close(TestData.Channel, "closed-by-adapter", "done");
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        feed.Post(id, startAfter: 0, timeline, knownLast: close.LastSequence);
        // A duplicate ack for the first message arrives afterwards: nothing is owed again.
        feed.Post(id, startAfter: 1, [], knownLast: close.LastSequence);
        await feed.DrainAsync();

        Assert.Equal([1L, 2L, 3L, 4L], collector.Entries.Select(e => e.Sequence));
        Assert.Equal(StatusKind.Closed, collector.Entries[^1].Status!.Kind);
    }

    [Fact]
    public async Task Gap_is_filled_by_reading_the_timeline_back()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(3);
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        // Told to start after 1 and handed only 6 and 7: 2..5 were lost on the way.
        feed.Post(id, startAfter: 1, [timeline[5], timeline[6]], knownLast: 7);
        await feed.DrainAsync();

        Assert.Equal(timeline.Skip(1), collector.Entries);
    }

    [Fact]
    public async Task Pushes_beyond_the_buffer_are_dropped_and_read_back_in_order()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(5);
        var collector = new EntryCollector();
        collector.Close();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance, maxQueuedEntries: 2);
        feed.Post(id, startAfter: 0, [], knownLast: 0);

        foreach (var entry in timeline)
        {
            await AsObserver(feed).OnEntries(id, [entry]);
        }

        collector.Open();
        await feed.DrainAsync();

        Assert.Equal(timeline, collector.Entries);
    }

    [Fact]
    public async Task Restart_delivers_again_from_the_requested_sequence()
    {
        var (id, timeline) = await ConversationWithTurnsAsync(2);
        var collector = new EntryCollector();
        await using var feed = new ConversationFeed(Grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);

        feed.Post(id, startAfter: 0, timeline, knownLast: timeline.Length);
        feed.Restart(id, afterSequence: 3, [], knownLast: timeline.Length);
        await feed.DrainAsync();

        Assert.Equal([1L, 2L, 3L, 4L, 5L, 4L, 5L], collector.Entries.Select(e => e.Sequence));
    }
}
