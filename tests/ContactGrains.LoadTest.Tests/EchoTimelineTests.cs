using ContactGrains.Client;
using ContactGrains.EchoServer;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest.Tests;

public class EchoTimelineTests
{
    private const string Channel = "loadtest";

    private readonly EchoTimeline _timeline = new(TimeProvider.System);

    [Fact]
    public void A_threads_first_message_opens_the_conversation_and_is_owed_the_opening()
    {
        var result = _timeline.Receive(Channel, Message("t1", "m1", "Where is my refund?"));

        Assert.Equal(AckStatus.Accepted, result.Ack.Status);
        Assert.Equal("m1", result.Ack.CorrelationId);
        Assert.Equal(2UL, result.Ack.Sequence);
        Assert.Equal([1UL, 2UL, 3UL], result.Entries.Select(e => e.Sequence));
        Assert.All(result.Entries, e => Assert.Equal(result.Ack.ConversationId, e.ConversationId));
        Assert.Equal(StatusKind.Started, result.Entries[0].Status.Kind);
        Assert.Equal(SenderKind.Customer, result.Entries[1].Message.Sender);
        Assert.Equal("m1", result.Entries[1].Message.AdapterMessageId);
        Assert.Equal(SenderKind.Bot, result.Entries[2].Message.Sender);
        Assert.True(result.Entries[2].Message.Bot.Understood);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void A_conversation_of_n_turns_reaches_its_adapter_as_1_plus_2n_entries_in_sequence(int turns)
    {
        var entries = Enumerable.Range(0, turns)
            .SelectMany(turn => _timeline.Receive(Channel, Message("t1", $"m{turn}", "question")).Entries)
            .Select(e => e.Sequence);

        Assert.Equal(Enumerable.Range(1, 1 + (2 * turns)).Select(s => (ulong)s), entries);
    }

    [Fact]
    public void Each_turn_is_acknowledged_with_its_customer_messages_sequence()
    {
        _timeline.Receive(Channel, Message("t1", "m1", "first"));

        var second = _timeline.Receive(Channel, Message("t1", "m2", "second"));

        Assert.Equal(4UL, second.Ack.Sequence);
        Assert.Equal([4UL, 5UL], second.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public void Resent_message_id_is_acknowledged_as_duplicate_with_the_original_sequence_and_stored_once()
    {
        _timeline.Receive(Channel, Message("t1", "m1", "first"));
        _timeline.Receive(Channel, Message("t1", "m2", "second"));

        var resent = _timeline.Receive(Channel, Message("t1", "m2", "second"));

        Assert.Equal(AckStatus.Duplicate, resent.Ack.Status);
        Assert.Equal(4UL, resent.Ack.Sequence);
        Assert.Equal([4UL, 5UL], resent.Entries.Select(e => e.Sequence));
        Assert.Equal(5UL, _timeline.Transcript(Channel, ConversationAddress.ForThread("t1"), 0, 500)!.Value.Last);
    }

    [Fact]
    public void A_resent_first_message_is_owed_the_opening_again()
    {
        _timeline.Receive(Channel, Message("t1", "m1", "first"));

        var resent = _timeline.Receive(Channel, Message("t1", "m1", "first"));

        Assert.Equal(AckStatus.Duplicate, resent.Ack.Status);
        Assert.Equal(2UL, resent.Ack.Sequence);
        Assert.Equal([1UL, 2UL, 3UL], resent.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public void A_conversation_started_without_a_message_owes_its_opening_with_the_first_message()
    {
        var (view, created) = _timeline.Start(Channel, "t1", new CustomerIdentity { ExternalCustomerId = "c1" });
        var (_, createdAgain) = _timeline.Start(Channel, "t1", new CustomerIdentity { ExternalCustomerId = "c1" });

        var first = _timeline.Receive(Channel, new InboundMessage { MessageId = "m1", Conversation = ConversationAddress.ForId(view.ConversationId), Text = "hello" });

        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal(1UL, view.LastSequence);
        Assert.Equal([1UL, 2UL, 3UL], first.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public void Resume_returns_the_entries_after_the_given_sequence_and_the_last_sequence()
    {
        var opened = _timeline.Receive(Channel, Message("t1", "m1", "first"));
        _timeline.Receive(Channel, Message("t1", "m2", "second"));

        var resumed = _timeline.Resume(Channel, new ResumeRequest { Conversation = ConversationAddress.ForId(opened.Ack.ConversationId), AfterSequence = 2, RequestId = "r1" });

        Assert.Equal(AckStatus.Accepted, resumed.Ack.Status);
        Assert.Equal("r1", resumed.Ack.CorrelationId);
        Assert.Equal(5UL, resumed.Ack.Sequence);
        Assert.Equal([3UL, 4UL, 5UL], resumed.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public void Resume_beyond_the_last_entry_is_out_of_range()
    {
        var opened = _timeline.Receive(Channel, Message("t1", "m1", "first"));

        var resumed = _timeline.Resume(Channel, new ResumeRequest { Conversation = ConversationAddress.ForId(opened.Ack.ConversationId), AfterSequence = 4, RequestId = "r1" });

        Assert.Equal(AckStatus.Rejected, resumed.Ack.Status);
        Assert.Equal((int)StatusCode.OutOfRange, resumed.Ack.Code);
        Assert.Empty(resumed.Entries);
    }

    [Fact]
    public void Another_channels_conversation_is_not_found()
    {
        var opened = _timeline.Receive(Channel, Message("t1", "m1", "first"));

        var elsewhere = _timeline.Receive("sms", new InboundMessage { MessageId = "m2", Conversation = ConversationAddress.ForId(opened.Ack.ConversationId), Text = "hi" });

        Assert.Equal(AckStatus.Rejected, elsewhere.Ack.Status);
        Assert.Equal((int)StatusCode.NotFound, elsewhere.Ack.Code);
        Assert.Null(_timeline.Get("sms", ConversationAddress.ForId(opened.Ack.ConversationId)));
    }

    [Fact]
    public void The_same_thread_on_two_channels_is_two_conversations()
    {
        var here = _timeline.Receive(Channel, Message("t1", "m1", "first"));
        var there = _timeline.Receive("sms", Message("t1", "m1", "first"));

        Assert.NotEqual(here.Ack.ConversationId, there.Ack.ConversationId);
        Assert.Equal(AckStatus.Accepted, there.Ack.Status);
    }

    private static InboundMessage Message(string thread, string id, string text) => new()
    {
        MessageId = id,
        Conversation = ConversationAddress.ForThread(thread),
        Customer = new CustomerIdentity { ExternalCustomerId = thread },
        Text = text,
    };
}
