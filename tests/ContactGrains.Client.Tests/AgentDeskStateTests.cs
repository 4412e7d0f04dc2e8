using ContactGrains.Protos.V1;

namespace ContactGrains.Client.Tests;

public sealed class AgentDeskStateTests
{
    private static Offer Offer(string offerId, string conversationId, params ulong[] sequences)
    {
        var context = new HandoffContext { ConversationId = conversationId };
        context.LastEntries.Add(sequences.Select(s => Entries.Message(conversationId, s)));
        return new Offer { OfferId = offerId, Context = context };
    }

    private static Assignment Assignment(string conversationId, params ulong[] sequences)
    {
        var context = new HandoffContext { ConversationId = conversationId };
        context.LastEntries.Add(sequences.Select(s => Entries.Message(conversationId, s)));
        return new Assignment { ConversationId = conversationId, Context = context };
    }

    [Fact]
    public void An_assignment_answers_the_offer_of_its_conversation_and_keeps_its_entries()
    {
        var state = new AgentDeskState();
        state.Apply(Offer("o1", "c1", 5, 6, 7));
        state.Apply(Offer("o2", "c2", 1));
        state.Apply(Assignment("c1", 5, 6, 7));

        Assert.Equal(["o2"], state.Offers.Select(o => o.OfferId));
        Assert.Equal(["c1"], state.Assignments.Select(a => a.ConversationId));
        Assert.Equal([5ul, 6, 7], state.EntriesOf("c1").Select(e => e.Sequence));
        Assert.Equal(7ul, state.ContiguousSequence("c1"));
    }

    [Fact]
    public void Entries_are_kept_once_by_sequence_and_a_gap_stops_the_contiguous_run()
    {
        var state = new AgentDeskState();
        state.Apply(Assignment("c", 3, 4));
        Assert.Equal([5ul], state.Add("c", [Entries.Message("c", 4), Entries.Message("c", 5)]).Select(e => e.Sequence));
        Assert.Equal([8ul], state.Add("c", [Entries.Message("c", 8)]).Select(e => e.Sequence));
        Assert.Equal(5ul, state.ContiguousSequence("c"));
        Assert.Equal([3ul, 4, 5, 8], state.EntriesOf("c").Select(e => e.Sequence));
    }

    [Fact]
    public void A_sync_replaces_offers_and_assignments_and_forgets_conversations_it_lacks()
    {
        var state = new AgentDeskState();
        state.Apply(Assignment("gone", 1, 2));
        state.Apply(Offer("stale", "c9", 1));
        var sync = new AgentSync
        {
            Status = new AgentStatus { AgentId = "alice", Presence = Presence.Available },
            Settings = new AgentSettings { DisconnectGracePeriodSeconds = 12 },
        };
        sync.Assignments.Add(Assignment("kept", 4));
        sync.Offers.Add(Offer("fresh", "c3", 2));
        state.Apply(sync);

        Assert.Equal(["kept"], state.Assignments.Select(a => a.ConversationId));
        Assert.Equal(["fresh"], state.Offers.Select(o => o.OfferId));
        Assert.Empty(state.EntriesOf("gone"));
        Assert.Equal(12u, state.Settings.DisconnectGracePeriodSeconds);
        Assert.Equal(Presence.Available, state.Status!.Presence);
        Assert.Equal(sync.Assignments, state.ToSync().Assignments);
    }

    [Fact]
    public void Withdrawing_and_ending_report_whether_there_was_anything()
    {
        var state = new AgentDeskState();
        state.Apply(Offer("o", "c", 1));
        Assert.True(state.Withdraw("o"));
        Assert.False(state.Withdraw("o"));
        Assert.Empty(state.EntriesOf("c"));

        state.Apply(Assignment("c", 1));
        Assert.True(state.End("c"));
        Assert.False(state.End("c"));
        Assert.Null(state.FindAssignment("c"));
    }
}
