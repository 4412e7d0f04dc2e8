using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The server's side of the channel stream. Where a test checks what the server sends (each entry
/// once, in order, from where a resume or a resend says) or sends frames the client library would
/// never send, it uses a <see cref="RawChannelStream"/>: the library would hide a duplicate or fill a
/// gap by itself. The other tests are adapters on the library (<see cref="AdapterStream"/>).
/// </summary>
[Collection(SiloCollection.Name)]
public sealed class ChannelStreamTests(SiloFixture silo)
{
    /// <summary>Raw: counts the entry frames the server sent, checks their arrival order, and how the server ends the call.</summary>
    [Fact]
    public async Task One_stream_carries_100_conversations_each_answered_in_order_with_gap_free_sequences()
    {
        const int conversations = 100;
        const int turns = 3;
        await using var adapter = new RawChannelStream(silo.Client());
        var run = Addresses.Unique("bulk");
        var threads = Enumerable.Range(0, conversations).Select(i => $"{run}-{i}").ToArray();
        (string Text, string Intent) Question(int conversation, int turn) =>
            Addresses.Questions[(conversation + turn) % Addresses.Questions.Length];

        // Turn by turn across all conversations, so the stream interleaves them.
        for (var turn = 0; turn < turns; turn++)
        {
            for (var i = 0; i < conversations; i++)
            {
                await adapter.SendMessageAsync($"{threads[i]}-m{turn}", Addresses.Thread(threads[i]), Question(i, turn).Text, Addresses.Customer($"{threads[i]}-customer"));
            }
        }

        var conversationIds = new string[conversations];
        for (var i = 0; i < conversations; i++)
        {
            for (var turn = 0; turn < turns; turn++)
            {
                var ack = await adapter.FirstAckAsync($"{threads[i]}-m{turn}");
                Assert.Equal(AckStatus.Accepted, ack.Status);
                Assert.Equal((ulong)(2 + (turn * 2)), ack.Sequence);
                conversationIds[i] = ack.ConversationId;
            }
        }

        Assert.Equal(conversations, conversationIds.Distinct().Count());
        for (var i = 0; i < conversations; i++)
        {
            // Start, then question and answer per turn: sequences 1..7, nothing missing, nothing twice.
            await adapter.WaitForEntriesAsync(conversationIds[i], 1 + (turns * 2));
            var entries = adapter.EntriesOf(conversationIds[i]);
            Assert.Equal(Enumerable.Range(1, 1 + (turns * 2)).Select(s => (ulong)s), entries.Select(e => e.Sequence));
            Assert.Equal(StatusKind.Started, entries[0].Status.Kind);
            for (var turn = 0; turn < turns; turn++)
            {
                var question = entries[1 + (turn * 2)].Message;
                var answer = entries[2 + (turn * 2)].Message;
                Assert.Equal(SenderKind.Customer, question.Sender);
                Assert.Equal(Question(i, turn).Text, question.Text);
                Assert.Equal(SenderKind.Bot, answer.Sender);
                Assert.Equal(Question(i, turn).Intent, answer.Bot.Intent);
                Assert.True(answer.Bot.Understood);
            }
        }

        var status = await adapter.CompleteAsync();
        Assert.Equal(StatusCode.OK, status.StatusCode);
        Assert.Equal(conversations * (1 + (turns * 2)), adapter.Received.Count(f => f.Entry is not null));
        Assert.Equal(conversations * turns, adapter.Received.Count(f => f.Ack is not null));
    }

    /// <summary>Raw: the two acks of the one id as the server sent them, and no entry delivered twice on the stream (the library would drop a second copy).</summary>
    [Fact]
    public async Task Resent_message_id_is_acknowledged_again_and_processed_once()
    {
        await using var adapter = new RawChannelStream(silo.Client());
        var thread = Addresses.Unique("resend");
        var customer = Addresses.Customer(Addresses.Unique("c"));

        await adapter.SendMessageAsync("resend-1", Addresses.Thread(thread), "Where is my refund?", customer);
        var first = await adapter.FirstAckAsync("resend-1");
        await adapter.WaitForEntriesAsync(first.ConversationId, 3);
        await adapter.SendMessageAsync("resend-1", Addresses.Thread(thread), "Where is my refund?", customer);
        await adapter.SendMessageAsync("resend-2", Addresses.Thread(thread), "How do I reset my password?", customer);
        var second = await adapter.FirstAckAsync("resend-2");

        var duplicate = adapter.Received.Select(f => f.Ack).Where(a => a?.CorrelationId == "resend-1").ToList();
        Assert.Equal([AckStatus.Accepted, AckStatus.Duplicate], duplicate.Select(a => a.Status));
        Assert.Equal(first.Sequence, duplicate[1].Sequence);
        Assert.Equal(first.ConversationId, duplicate[1].ConversationId);
        Assert.Equal(4UL, second.Sequence);

        var transcript = await silo.Client().GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(first.ConversationId) });
        Assert.Single(transcript.Entries, e => e.Message?.AdapterMessageId == "resend-1");
        Assert.Equal(5UL, transcript.LastSequence);
        await adapter.WaitForEntriesAsync(first.ConversationId, 5);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], adapter.EntriesOf(first.ConversationId).Select(e => e.Sequence));
    }

    /// <summary>Raw on purpose: frames without an id or an address, which the library would never send.</summary>
    [Fact]
    public async Task Bad_frames_get_precise_rejections_and_the_stream_keeps_working()
    {
        await using var adapter = new RawChannelStream(silo.Client());
        var thread = Addresses.Thread(Addresses.Unique("bad"));
        var customer = Addresses.Customer(Addresses.Unique("c"));

        await adapter.SendMessageAsync("empty", thread, "  \n ", customer);
        await adapter.SendMessageAsync("unknown", Addresses.Conversation("no-such-conversation"), "hello");
        await adapter.SendMessageAsync("oversize", thread, new string('x', 5000), customer);
        await adapter.SendMessageAsync("", thread, "no id", customer);
        await adapter.SendAsync(new ChannelUpstream { Message = new InboundMessage { MessageId = "no-address", Text = "hi" } });
        await adapter.SendMessageAsync("no-customer", Addresses.Thread(Addresses.Unique("fresh")), "hello");
        await adapter.SendMessageAsync("good", thread, "Where is my parcel?", customer);

        AssertRejected(await adapter.FirstAckAsync("empty"), StatusCode.InvalidArgument, "text is empty");
        AssertRejected(await adapter.FirstAckAsync("unknown"), StatusCode.NotFound, "'no-such-conversation' was not found on channel 'webchat'");
        AssertRejected(await adapter.FirstAckAsync("oversize"), StatusCode.InvalidArgument, "5000 characters long; the limit is 4096");
        AssertRejected(await adapter.FirstAckAsync(""), StatusCode.InvalidArgument, "message_id is required");
        AssertRejected(await adapter.FirstAckAsync("no-address"), StatusCode.InvalidArgument, "conversation is required");
        AssertRejected(await adapter.FirstAckAsync("no-customer"), StatusCode.InvalidArgument, "customer.external_customer_id is required");

        var good = await adapter.FirstAckAsync("good");
        Assert.Equal(AckStatus.Accepted, good.Status);
        await adapter.WaitForEntriesAsync(good.ConversationId, 3);
        var entries = adapter.EntriesOf(good.ConversationId);
        Assert.Equal([1UL, 2UL, 3UL], entries.Select(e => e.Sequence));
        Assert.Equal("delivery_tracking", entries[2].Message.Bot.Intent);
        Assert.Equal(StatusCode.OK, (await adapter.CompleteAsync()).StatusCode);

        static void AssertRejected(Ack ack, StatusCode code, string detail)
        {
            Assert.Equal(AckStatus.Rejected, ack.Status);
            Assert.Equal((int)code, ack.Code);
            Assert.Contains(detail, ack.Detail, StringComparison.Ordinal);
        }
    }

    /// <summary>The resume contract: every future entry, from any writer, not only those that reveal a gap.</summary>
    [Fact]
    public async Task A_resumed_stream_receives_at_once_the_entries_of_a_message_sent_through_the_unary_api()
    {
        var thread = Addresses.Thread(Addresses.Unique("resume-unary"));
        var customer = Addresses.Customer(Addresses.Unique("c"));
        var first = await silo.Client().SendMessageAsync(new SendMessageRequest { Message = new InboundMessage { MessageId = "u1", Conversation = thread, Customer = customer, Text = "Where is my refund?" } });
        var conversationId = first.Ack.ConversationId;
        await using var stream = new RawChannelStream(silo.Client());
        await stream.SendAsync(new ChannelUpstream { Resume = new ResumeRequest { RequestId = "resume-u", Conversation = Addresses.Conversation(conversationId), AfterSequence = first.Ack.Sequence + 1 } });
        Assert.Equal(AckStatus.Accepted, (await stream.FirstAckAsync("resume-u")).Status);

        // A webhook-style adapter sends the next message through the unary API.
        var second = await silo.Client().SendMessageAsync(new SendMessageRequest { Message = new InboundMessage { MessageId = "u2", Conversation = Addresses.Conversation(conversationId), Text = "Can I get a copy of my invoice?" } });
        await stream.WaitForEntriesAsync(conversationId, second.Entries.Count);

        Assert.Equal(second.Entries.Select(e => e.Sequence), stream.EntriesOf(conversationId).Select(e => e.Sequence));
        Assert.Equal("Can I get a copy of my invoice?", stream.EntriesOf(conversationId)[0].Message.Text);
    }

    /// <summary>The first connection is the library's; the second writes its resume by hand (raw), to see exactly what the server sends after it.</summary>
    [Fact]
    public async Task Reconnecting_adapter_resumes_after_its_last_seen_sequence()
    {
        string conversationId;
        await using (var first = new AdapterStream(silo.Client()))
        {
            var thread = Addresses.Thread(Addresses.Unique("resume"));
            var customer = Addresses.Customer(Addresses.Unique("c"));
            await first.SendMessageAsync("r1", thread, "Where is my refund?", customer);
            await first.SendMessageAsync("r2", thread, "Can I get a copy of my invoice?", customer);
            conversationId = (await first.AckAsync("r2")).ConversationId;
            await first.WaitForEntriesAsync(conversationId, 5);
        }

        await using var second = new RawChannelStream(silo.Client());
        await second.SendAsync(new ChannelUpstream { Resume = new ResumeRequest { RequestId = "resume-1", Conversation = Addresses.Conversation(conversationId), AfterSequence = 3 } });
        var ack = await second.FirstAckAsync("resume-1");
        await second.WaitForEntriesAsync(conversationId, 2);

        Assert.Equal(AckStatus.Accepted, ack.Status);
        Assert.Equal(5UL, ack.Sequence);
        Assert.Equal([4UL, 5UL], second.EntriesOf(conversationId).Select(e => e.Sequence));

        // The new connection is now the delivery target: a close from elsewhere is pushed to it.
        await silo.Client().CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId), Reason = "customer left" });
        // (The bot had answered, so the close asks for a rating first.)
        await second.WaitForEntriesAsync(conversationId, 4);
        Assert.Equal([(6UL, StatusKind.RatingRequested), (7UL, StatusKind.Closed)], second.EntriesOf(conversationId).Skip(2).Select(e => (e.Sequence, e.Status.Kind)));
    }

    /// <summary>
    /// The first connection is the library's. The resends are raw: the library resends by itself after
    /// a reconnection and would hide a duplicate or fill a gap in what the server sends back.
    /// </summary>
    [Fact]
    public async Task Resend_on_a_new_stream_is_a_duplicate_and_delivers_everything_from_that_message_and_the_opening_for_the_first()
    {
        var thread = Addresses.Thread(Addresses.Unique("lost-ack"));
        var customer = Addresses.Customer(Addresses.Unique("c"));
        string conversationId;
        await using (var first = new AdapterStream(silo.Client()))
        {
            await first.SendMessageAsync("lost-1", thread, "Where is my refund?", customer);
            await first.SendMessageAsync("lost-2", thread, "How do I reset my password?", customer);
            conversationId = (await first.AckAsync("lost-2")).ConversationId;
        }

        // As if the adapter never saw those acks: it reconnects and resends the first message.
        await using var second = new RawChannelStream(silo.Client());
        await second.SendMessageAsync("lost-1", thread, "Where is my refund?", customer);
        var ack = await second.FirstAckAsync("lost-1");
        await second.WaitForEntriesAsync(conversationId, 5);

        // The first message: the opening (STARTED, #1) is owed too, or this connection would never see it.
        Assert.Equal(AckStatus.Duplicate, ack.Status);
        Assert.Equal(2UL, ack.Sequence);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], second.EntriesOf(conversationId).Select(e => e.Sequence));
        Assert.Equal("password_reset", second.EntriesOf(conversationId)[4].Message.Bot.Intent);

        // A later message: from that message on.
        await using var third = new RawChannelStream(silo.Client());
        await third.SendMessageAsync("lost-2", thread, "How do I reset my password?", customer);
        Assert.Equal(4UL, (await third.FirstAckAsync("lost-2")).Sequence);
        await third.WaitForEntriesAsync(conversationId, 2);
        Assert.Equal([4UL, 5UL], third.EntriesOf(conversationId).Select(e => e.Sequence));
    }

    /// <summary>Through the library: reading a conversation from beyond its end is the resume the server refuses, and the reader fails with that refusal.</summary>
    [Fact]
    public async Task Resume_beyond_the_end_of_the_timeline_is_out_of_range()
    {
        await using var adapter = new AdapterStream(silo.Client());
        await adapter.SendMessageAsync("oor-1", Addresses.Thread(Addresses.Unique("oor")), "Where is my refund?", Addresses.Customer(Addresses.Unique("c")));
        var conversationId = (await adapter.AckAsync("oor-1")).ConversationId;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var entry in adapter.Connection.ReadConversationAsync(conversationId, afterSequence: 99, timeout.Token))
            {
                Assert.Fail($"No entry is after 99, yet #{entry.Sequence} was read.");
            }
        });

        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
        Assert.Contains("ends at 3", error.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>Raw gRPC: the library always sends the channel header.</summary>
    [Fact]
    public async Task Stream_without_an_api_key_is_unauthenticated()
    {
        var client = new ChannelService.ChannelServiceClient(silo.Channel);
        using var call = client.Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.StartsWith("Missing API key: send the channel's key in the 'x-api-key' header", error.Status.Detail, StringComparison.Ordinal);
    }
}
