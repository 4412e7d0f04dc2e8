using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The copilot level over real gRPC: a human answers the intent, the bot drafts each reply, the
/// agent sees the draft with the message and sends it as is, edits it, or discards it, and every
/// draft's fate counts in the intent's figures (draft acceptance, on the humans' side).
/// </summary>
public sealed class CopilotTests(CopilotTests.Fixture silo) : IClassFixture<CopilotTests.Fixture>
{
    private const string Question = "How do I get a copy of my invoice?";
    [Fact]
    public async Task A_copilot_draft_reaches_the_agent_with_the_message_and_its_fate_is_recorded()
    {
        var client = silo.Client();
        await using var desk = await TestDesk.ConnectAsync(silo, "cora", TestDesk.Profile("Cora", "billing:4", "en", capacity: 5));

        // The customer asks; a human answers this intent, so the bot's answer is withheld from them…
        var conversationId = await AskAsync(client, Question);
        var transcript = await client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(StatusKind.Queued, transcript.Entries[^1].Status.Kind);

        // …and becomes the agent's first draft, shown with the conversation.
        var assignment = await desk.AcceptOfferForAsync(conversationId);
        var first = assignment.Context.Draft;
        Assert.NotNull(first);
        Assert.Equal("invoice_copy", first.Intent);
        Assert.Equal(transcript.Entries.Last(e => e.Message?.Sender == SenderKind.Customer).Sequence, first.InReplyToSequence);
        Assert.Equal(first.DraftId, desk.Connection.State(s => s.DraftOf(conversationId))?.DraftId);
        Assert.DoesNotContain(transcript.Entries, e => e.Message?.Text == first.Text);

        // Sent as the bot wrote it.
        var sent = await desk.Connection.SendAsync(conversationId, first.Text, draftId: first.DraftId);
        Assert.Equal(first.Text, sent.Message.Text);
        Assert.Null(desk.Connection.State(s => s.DraftOf(conversationId)));

        // The customer writes again: a new draft comes with the message; the agent edits it.
        await AskAsync(client, "Sorry, how can I get a copy of my invoice again?", conversationId);
        await desk.WaitUntilAsync(() => desk.Connection.State(s => s.DraftOf(conversationId)) is not null);
        var second = desk.Connection.State(s => s.DraftOf(conversationId))!;
        Assert.NotEqual(first.DraftId, second.DraftId);
        await desk.Connection.SendAsync(conversationId, "Hi! " + second.Text + " I've also emailed it to you.", draftId: second.DraftId);

        // A draft that was used is no longer current.
        var stale = await Assert.ThrowsAsync<RpcException>(() => desk.Connection.SendAsync(conversationId, "again", draftId: second.DraftId));
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);

        // A third: discarded.
        await AskAsync(client, Question, conversationId);
        await desk.WaitUntilAsync(() => desk.Connection.State(s => s.DraftOf(conversationId)) is not null);
        await desk.Connection.DiscardDraftAsync(conversationId, desk.Connection.State(s => s.DraftOf(conversationId))!.DraftId);

        var supervisor = silo.Supervisor();
        var policy = await Eventually.ReadAsync(
            () => supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync,
            p => p.Levels.Single(l => l.Intent == "invoice_copy").Human?.Drafts >= 3);
        var human = policy.Levels.Single(l => l.Intent == "invoice_copy").Human;
        Assert.Equal(3u, human.Drafts);
        Assert.Equal(2.0 / 3, human.DraftAcceptance, 6);
    }

    [Fact]
    public async Task A_message_the_agent_writes_without_the_draft_counts_it_as_discarded()
    {
        var client = silo.Client();
        await using var desk = await TestDesk.ConnectAsync(silo, "carl", TestDesk.Profile("Carl", "billing:4", "en", capacity: 5));
        var conversationId = await AskAsync(client, Question);
        var assignment = await desk.AcceptOfferForAsync(conversationId);
        Assert.NotNull(assignment.Context.Draft);

        await desk.Connection.SendAsync(conversationId, "Let me look at your account first.");

        var again = await Assert.ThrowsAsync<RpcException>(() =>
            desk.Connection.SendAsync(conversationId, assignment.Context.Draft.Text, draftId: assignment.Context.Draft.DraftId));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.StartsWith($"Draft '{assignment.Context.Draft.DraftId}' is not the conversation's current draft", again.Status.Detail);
    }

    private static async Task<string> AskAsync(ChannelService.ChannelServiceClient client, string text, string? conversationId = null)
    {
        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage
            {
                MessageId = Addresses.Unique("m"),
                Conversation = conversationId is null ? Addresses.Thread(Addresses.Unique("copilot")) : Addresses.Conversation(conversationId),
                Customer = conversationId is null ? Addresses.Customer(Addresses.Unique("c")) : null,
                Text = text,
            },
        });
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        return response.Ack.ConversationId;
    }

    public sealed class Fixture : SiloFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("ContactGrains:Automation:Levels:invoice_copy", "Copilot"),
            new("ContactGrains:Automation:OutcomeFlushInterval", "00:00:00.200"),
        ];
    }
}
