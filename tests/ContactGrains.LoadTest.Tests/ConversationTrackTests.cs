using ContactGrains.Protos.V1;

namespace ContactGrains.LoadTest.Tests;

public sealed class ConversationTrackTests
{
    private static ulong _sequence;

    private static TimelineEntry Status(StatusKind kind) => new() { ConversationId = "c", Sequence = ++_sequence, Status = new StatusEvent { Kind = kind } };

    private static TimelineEntry Message(SenderKind sender, bool understood = true) => new()
    {
        ConversationId = "c",
        Sequence = ++_sequence,
        Message = new ChatMessage { Sender = sender, Text = "…", Bot = sender == SenderKind.Bot ? new BotAnswer { Understood = understood } : null },
    };

    [Fact]
    public void Bot_answers_are_counted_the_handover_notice_is_not_and_the_agent_reply_and_queue_are_recorded()
    {
        var answers = new List<bool>();
        var events = new List<HybridEventKind>();
        var track = new ConversationTrack(answers.Add, events.Add);
        TimelineEntry[] entries =
        [
            Status(StatusKind.Started), Message(SenderKind.Customer), Message(SenderKind.Bot),
            Message(SenderKind.Customer), Message(SenderKind.Bot, understood: false),
            Message(SenderKind.Customer), Message(SenderKind.Bot), Status(StatusKind.Queued),
            Status(StatusKind.AgentJoined), Message(SenderKind.Agent), Message(SenderKind.Agent),
            Status(StatusKind.Resolved), Status(StatusKind.Closed),
        ];
        foreach (var entry in entries)
        {
            track.Saw(entry);
        }

        Assert.Equal([true, false], answers);
        Assert.Equal([HybridEventKind.Queued, HybridEventKind.Answered], events);
        Assert.True(track.FirstAgentReply.Task.IsCompletedSuccessfully);
        Assert.True(track.Closed.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void A_routine_conversation_closed_by_its_customer_counts_its_last_answer()
    {
        var answers = new List<bool>();
        var track = new ConversationTrack(answers.Add, _ => Assert.Fail("nothing to record"));
        foreach (var entry in new[] { Status(StatusKind.Started), Message(SenderKind.Customer), Message(SenderKind.Bot), Message(SenderKind.Customer), Message(SenderKind.Bot), Status(StatusKind.Closed) })
        {
            track.Saw(entry);
        }

        Assert.Equal([true, true], answers);
        Assert.False(track.FirstAgentReply.Task.IsCompleted);
        Assert.True(track.Closed.Task.IsCompletedSuccessfully);
    }
}
