using static ContactGrains.LoadTest.HybridEventKind;

namespace ContactGrains.LoadTest.Tests;

public sealed class HybridChecksTests
{
    private static readonly StartedConversation[] Conversations =
    [
        new("c1", "t1", true, "I want to make a formal complaint"),
        new("c2", "t2", true, "Je voudrais parler à un conseiller"),
        new("c3", "t3", true, "There's a payment on my card I don't recognise"),
        new("c4", "t4", false, "Where is my parcel?"),
        new("c5", "t5", true, "I'll be contacting my lawyer about this"),
    ];

    /// <summary>Each human conversation offered, accepted once, answered and resolved once, one at a time per agent.</summary>
    private static IEnumerable<HybridEvent> Clean(string conversation, string agent) =>
    [
        new(Queued, conversation), new(Offered, conversation, agent), new(Accepted, conversation, agent),
        new(Answered, conversation), new(Released, conversation, agent), new(Resolved, conversation, agent),
    ];

    [Fact]
    public void A_clean_run_has_no_problem()
    {
        HybridEvent[] events = [.. Clean("c1", "a"), .. Clean("c2", "a"), .. Clean("c3", "b"), .. Clean("c5", "b")];
        Assert.Empty(HybridChecks.Verify(Conversations, events, capacity: 1));
    }

    [Fact]
    public void A_double_accept_an_overloaded_desk_a_missing_resolve_and_a_false_handoff_are_each_named()
    {
        HybridEvent[] events =
        [
            // c1: offered to a, then (after a timeout) to b; both accepts succeeded.
            new(Queued, "c1"), new(Offered, "c1", "a"), new(Offered, "c1", "b"), new(Accepted, "c1", "a"), new(Accepted, "c1", "b"),
            new(Answered, "c1"), new(Released, "c1", "a"), new(Resolved, "c1", "a"),
            // c2, c3 and c5 offered to b while it still holds c1: four at once, capacity 3.
            new(Offered, "c2", "b"), new(Offered, "c3", "b"), new(Offered, "c5", "b"), new(Released, "c1", "b"),
            new(Accepted, "c2", "b"), new(Answered, "c2"), new(Released, "c2", "b"), new(Resolved, "c2", "b"),
            // c3: answered, never resolved.
            new(Accepted, "c3", "b"), new(Answered, "c3"), new(Released, "c3", "b"),
            // c5: accepted, resolved twice, never answered.
            new(Accepted, "c5", "b"), new(Released, "c5", "b"), new(Resolved, "c5", "b"), new(Resolved, "c5", "b"),
            // c4 (routine) went to a queue.
            new(Queued, "c4"),
        ];

        Assert.Equal(
        [
            "agent b held 4 conversations at once (capacity 3)",
            "t1 (\"I want to make a formal complaint\") was accepted 2 times (a, b)",
            "t3 (\"There's a payment on my card I don't recognise\") was never resolved",
            "routine conversation t4 (\"Where is my parcel?\") was handed over to a human",
            "t5 (\"I'll be contacting my lawyer about this\"): the customer never saw an agent's reply",
            "t5 (\"I'll be contacting my lawyer about this\") was resolved 2 times",
        ],
            HybridChecks.Verify(Conversations, events, capacity: 3));
    }

    [Fact]
    public void A_conversation_never_offered_or_never_accepted_stops_its_checks_there()
    {
        HybridEvent[] events = [.. Clean("c1", "a"), new(Queued, "c2"), new(Offered, "c3", "a"), new(Released, "c3", "a"), .. Clean("c5", "a")];
        Assert.Equal(
        [
            "t2 (\"Je voudrais parler à un conseiller\") was never offered to an agent",
            "t3 (\"There's a payment on my card I don't recognise\") was offered but never accepted",
        ],
            HybridChecks.Verify(Conversations, events, capacity: 3));
    }

    [Fact]
    public void A_routine_conversation_offered_without_a_queued_entry_seen_is_still_a_false_handoff()
    {
        HybridEvent[] events = [.. Clean("c1", "a"), .. Clean("c2", "a"), .. Clean("c3", "a"), .. Clean("c5", "a"), new(Offered, "c4", "a"), new(Released, "c4", "a")];
        Assert.Equal(["routine conversation t4 (\"Where is my parcel?\") was handed over to a human"], HybridChecks.Verify(Conversations, events, capacity: 3));
    }

    [Fact]
    public void A_release_frees_the_slot_so_held_counts_only_overlaps()
    {
        // Offered and released one after another: never more than one held.
        HybridEvent[] events = [.. Clean("c1", "a"), .. Clean("c2", "a"), .. Clean("c3", "a"), .. Clean("c5", "a")];
        Assert.Empty(HybridChecks.Verify(Conversations, events, capacity: 1));
    }

    [Fact]
    public void A_run_stopped_at_its_time_limit_checks_only_what_finished_and_says_where_the_rest_had_got_to()
    {
        // c1 finished; c2 waits in a queue, c3 is offered, c5 accepted; the routine c4 was handed over before the stop.
        HybridEvent[] events =
        [
            .. Clean("c1", "a"), new(Queued, "c2"), new(Queued, "c3"), new(Offered, "c3", "a"),
            new(Queued, "c5"), new(Offered, "c5", "b"), new(Accepted, "c5", "b"), new(Queued, "c4"),
        ];
        var finished = new HashSet<string> { "c1" };

        Assert.Equal(["routine conversation t4 (\"Where is my parcel?\") was handed over to a human"], HybridChecks.Verify(Conversations, events, 3, finished));
        Assert.Equal("1 routine; 3 human-needing: 1 not offered yet, 1 offered, 1 accepted", HybridChecks.Unfinished(Conversations, events, finished));
        Assert.Equal("0 routine; 0 human-needing", HybridChecks.Unfinished(Conversations, events, Conversations.Select(c => c.ConversationId).ToHashSet()));
    }
}
