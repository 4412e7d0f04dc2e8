using ContactGrains.Protos.V1;
using CsCheck;

namespace ContactGrains.Client.Tests;

public sealed class EntrySubscriptionTests
{
    [Fact]
    public void A_full_buffer_drops_entries_and_asks_for_them_again_once_read()
    {
        var subscription = new EntrySubscription("c", startAfter: 0, capacity: 2);
        var resumes = new List<(string ConversationId, ulong After)>();
        foreach (var sequence in Entries.Range(1, 5))
        {
            subscription.Offer(Entries.Message("c", sequence), resumes);
        }

        Assert.Empty(resumes); // nothing is asked for while the reader is behind
        Assert.Equal([1ul, 2], Drain(subscription));
        subscription.CatchUp(resumes);
        Assert.Equal([("c", 2ul)], resumes);

        resumes.Clear();
        foreach (var sequence in Entries.Range(3, 5))
        {
            subscription.Offer(Entries.Message("c", sequence), resumes); // the replay
        }

        Assert.Equal([3ul, 4], Drain(subscription)); // 5 overflowed again
        subscription.CatchUp(resumes);
        Assert.Equal([("c", 4ul)], resumes);
    }

    [Fact]
    public void A_conversation_reader_ends_after_the_closed_entry()
    {
        var subscription = new EntrySubscription("c", startAfter: 0, capacity: 10);
        var resumes = new List<(string ConversationId, ulong After)>();
        subscription.Offer(Entries.Message("c", 1), resumes);
        subscription.Offer(Entries.Closed("c", 2), resumes);
        subscription.Offer(Entries.Message("c", 3), resumes);
        Assert.Equal([1ul, 2], Drain(subscription));
        Assert.True(subscription.Reader.Completion.IsCompleted);
    }

    [Fact]
    public void A_conversation_reader_ignores_other_conversations_and_what_it_already_has()
    {
        var subscription = new EntrySubscription("c", startAfter: 3, capacity: 10);
        var resumes = new List<(string ConversationId, ulong After)>();
        subscription.Offer(Entries.Message("other", 1), resumes);
        subscription.Offer(Entries.Message("c", 2), resumes);
        subscription.Offer(Entries.Message("c", 4), resumes);
        Assert.Equal([4ul], Drain(subscription));
        Assert.Empty(resumes);
    }

    [Fact]
    public void After_a_broken_stream_each_conversation_resumes_from_what_the_reader_has()
    {
        var all = new EntrySubscription(null, 0, capacity: 10);
        var resumes = new List<(string ConversationId, ulong After)>();
        all.Offer(Entries.Message("a", 4), resumes); // first seen mid-way: starts there
        all.Offer(Entries.Message("a", 5), resumes);
        all.Offer(Entries.Message("b", 1), resumes);
        all.NoteAcknowledged("c"); // acknowledged, but its entries never arrived

        all.ResumePoints(resumes);
        Assert.Equal([("a", 5ul), ("b", 1ul), ("c", 0ul)], resumes.OrderBy(r => r.ConversationId));
    }

    [Fact]
    public void A_closed_conversation_is_not_resumed_and_its_late_replays_are_ignored()
    {
        var all = new EntrySubscription(null, 0, capacity: 10);
        var resumes = new List<(string ConversationId, ulong After)>();
        all.Offer(Entries.Message("a", 1), resumes);
        all.Offer(Entries.Closed("a", 2), resumes);
        all.Offer(Entries.Message("a", 1), resumes);
        all.ResumePoints(resumes);
        Assert.Empty(resumes);
        Assert.Equal([1ul, 2], Drain(all));
    }

    /// <summary>
    /// A reader of any speed, a buffer of any size, live entries of several conversations interleaved
    /// with the replays the subscription asks for: the reader gets each conversation's entries once, in
    /// order, and never more than the buffer's capacity waits for it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_slow_reader_gets_everything_once_in_order_with_bounded_memory(bool oneConversation)
    {
        var runs =
            from counts in Gen.Int[1, 25].Array[1, oneConversation ? 1 : 4]
            from capacity in Gen.Int[1, 6]
            from steps in Gen.Int[0, 9].Array[10, 400]
            select (Counts: counts, Capacity: capacity, Steps: steps);

        runs.Sample(
            run =>
            {
                var ids = run.Counts.Select((_, i) => $"c{i}").ToArray();
                var subscription = new EntrySubscription(oneConversation ? ids[0] : null, 0, run.Capacity);
                var wire = new Queue<TimelineEntry>();
                var pushed = new ulong[ids.Length];
                var read = ids.ToDictionary(id => id, _ => new List<ulong>());
                var resumes = new List<(string ConversationId, ulong After)>();

                void Replay()
                {
                    foreach (var (conversationId, after) in resumes)
                    {
                        var index = Array.IndexOf(ids, conversationId);
                        foreach (var sequence in Entries.Range(after + 1, pushed[index]))
                        {
                            wire.Enqueue(Entries.Message(conversationId, sequence));
                        }
                    }

                    resumes.Clear();
                }

                void Deliver()
                {
                    if (wire.TryDequeue(out var entry))
                    {
                        subscription.Offer(entry, resumes);
                        Replay();
                    }
                }

                void ReadOne()
                {
                    Assert.True(subscription.Reader.Count <= run.Capacity);
                    if (subscription.Reader.TryRead(out var entry))
                    {
                        read[entry.ConversationId].Add(entry.Sequence);
                    }
                    else
                    {
                        subscription.CatchUp(resumes);
                        Replay();
                    }
                }

                foreach (var step in run.Steps)
                {
                    if (step < 4)
                    {
                        var index = step % ids.Length;
                        if (pushed[index] < (ulong)run.Counts[index])
                        {
                            wire.Enqueue(Entries.Message(ids[index], ++pushed[index]));
                        }
                    }
                    else if (step < 7)
                    {
                        Deliver();
                    }
                    else
                    {
                        ReadOne();
                    }
                }

                // Everything is live now; the wire and the reader run until nothing more is owed.
                for (var index = 0; index < ids.Length; index++)
                {
                    while (pushed[index] < (ulong)run.Counts[index])
                    {
                        wire.Enqueue(Entries.Message(ids[index], ++pushed[index]));
                    }
                }

                for (var rounds = 0; wire.Count > 0 || subscription.Reader.Count > 0 || read.Any(r => r.Value.Count < run.Counts[Array.IndexOf(ids, r.Key)]); rounds++)
                {
                    Assert.True(rounds < 100_000, "the reader must catch up");
                    Deliver();
                    ReadOne();
                }

                foreach (var (id, sequences) in read)
                {
                    Assert.Equal(Entries.Range(1, (ulong)run.Counts[Array.IndexOf(ids, id)]), sequences);
                }
            },
            iter: 1000);
    }

    private static List<ulong> Drain(EntrySubscription subscription)
    {
        var sequences = new List<ulong>();
        while (subscription.Reader.TryRead(out var entry))
        {
            sequences.Add(entry.Sequence);
        }

        return sequences;
    }
}
