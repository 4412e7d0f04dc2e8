using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The supervisor API over real gRPC (and its JSON form over HTTP/1.1): the floor, open
/// conversations with their ledger, taking a conversation over from the bot (which then falls
/// silent), sending one to a queue, and reviews of supervised conversations.
/// </summary>
public sealed class SupervisorTests(SupervisorTests.Fixture silo) : IClassFixture<SupervisorTests.Fixture>
{
    [Fact]
    public async Task A_supervisor_takes_a_conversation_over_from_the_bot_and_the_bot_falls_silent()
    {
        var client = silo.Client();
        var supervisor = silo.Supervisor("sam");
        await using var desk = await TestDesk.ConnectAsync(silo, "sam", TestDesk.Profile("Sam Supervisor", "billing:5", "en"), SupervisorToken("sam"));
        var conversationId = await AskAsync(client, "How do I get a copy of my invoice?");

        // The index knows it within a batch, with the bot as its owner and the intent it understood.
        var listed = await Eventually.ReadAsync(
            () => supervisor.ListConversationsAsync(new ListConversationsRequest { Owner = OwnerKind.Bot, MaxResults = 500 }).ResponseAsync,
            r => r.Conversations.Any(c => c.ConversationId == conversationId && c.Intent == "invoice_copy"));
        Assert.Equal("new-conversation", listed.Conversations.Single(c => c.ConversationId == conversationId).ReasonCode);

        var taken = await supervisor.TakeOverAsync(new TakeOverRequest { ConversationId = conversationId, Reason = "Checking the bot's invoice answers live" });

        Assert.Equal((OwnerKind.Agent, "sam"), (taken.Summary.Owner.Kind, taken.Summary.Owner.Id));
        var change = taken.Ledger[^1];
        Assert.Equal("supervisor-took-over", change.ReasonCode);
        Assert.Equal("Supervisor sam took the conversation over from the bot: Checking the bot's invoice answers live", change.Reason);
        Assert.Equal(StatusKind.AgentJoined, taken.LastEntries[^1].Status.Kind);
        await desk.WaitUntilAsync(() => desk.Assignments().Any(a => a.ConversationId == conversationId));

        // The customer writes again: no bot answer, the supervisor's desk gets the message, and answers.
        var after = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Conversation(conversationId), Text = "Thanks, and for last month too?" },
        });
        Assert.DoesNotContain(after.Entries, e => e.Message?.Sender == SenderKind.Bot);
        await desk.WaitUntilAsync(() => desk.EntriesOf(conversationId).Any(e => e.Message?.Text == "Thanks, and for last month too?"));
        await desk.Connection.SendAsync(conversationId, "Yes, I have sent both to your email.");

        var view = await supervisor.GetConversationAsync(new SupervisorConversationRequest { ConversationId = conversationId });
        Assert.Equal(SenderKind.Agent, view.LastEntries[^1].Message.Sender);
        Assert.DoesNotContain(view.LastEntries.SkipWhile(e => e.Status?.Kind != StatusKind.AgentJoined), e => e.Message?.Sender == SenderKind.Bot);

        // Taking it again is a no-op for the same supervisor.
        var again = await supervisor.TakeOverAsync(new TakeOverRequest { ConversationId = conversationId, Reason = "again" });
        Assert.Equal(taken.Ledger.Count, again.Ledger.Count);
    }

    [Fact]
    public async Task A_supervisor_takes_a_conversation_from_an_agent_who_is_told_so()
    {
        var client = silo.Client();
        var supervisor = silo.Supervisor("sue");
        await using var sue = await TestDesk.ConnectAsync(silo, "sue", TestDesk.Profile("Sue", "payments:5", "en"), SupervisorToken("sue"));
        var conversationId = await AskAsync(client, "I want to speak to a human about a payment");
        await using var ann = await TestDesk.ConnectAsync(silo, "ann-sup", TestDesk.Profile("Ann", "payments:3,billing:3,general:3", "en"));
        await ann.AcceptOfferForAsync(conversationId);

        await supervisor.TakeOverAsync(new TakeOverRequest { ConversationId = conversationId, Reason = "Complaint escalated to me" });

        await ann.WaitUntilAsync(() => ann.Notices.Any(n => n.ConversationId == conversationId && n.Reason == ConversationEndReason.TakenOver));
        var agentReply = await Assert.ThrowsAsync<RpcException>(() => ann.Connection.SendAsync(conversationId, "Still here?"));
        Assert.Equal(StatusCode.PermissionDenied, agentReply.StatusCode);
        await sue.WaitUntilAsync(() => sue.Assignments().Any(a => a.ConversationId == conversationId));
    }

    [Fact]
    public async Task Taking_a_waiting_conversation_over_counts_as_an_answer_in_its_queue_not_an_abandon()
    {
        var client = silo.Client();
        var supervisor = silo.Supervisor("tom");
        await using var desk = await TestDesk.ConnectAsync(silo, "tom", TestDesk.Profile("Tom", "general:5", "fr"), SupervisorToken("tom"));
        var conversationId = await AskAsync(client, "I want to speak to a human");
        var queue = (await supervisor.GetConversationAsync(new SupervisorConversationRequest { ConversationId = conversationId })).Summary.Owner.Id;
        var before = (await supervisor.GetFloorAsync(new GetFloorRequest())).Queues.Single(q => q.Queue == queue);

        await supervisor.TakeOverAsync(new TakeOverRequest { ConversationId = conversationId, Reason = "Long wait on this queue" });

        var after = (await supervisor.GetFloorAsync(new GetFloorRequest())).Queues.Single(q => q.Queue == queue);
        Assert.Equal((before.Answered + 1, before.Abandoned), (after.Answered, after.Abandoned));
    }

    [Fact]
    public async Task A_supervisor_sends_a_bot_conversation_to_a_queue_with_the_reason_in_its_ledger()
    {
        var client = silo.Client();
        var supervisor = silo.Supervisor();
        var conversationId = await AskAsync(client, "How do I get a copy of my invoice?");

        var sent = await supervisor.SendToQueueAsync(new SendToQueueRequest
        {
            ConversationId = conversationId,
            Queue = new QueueAddress { Skill = "billing" },
            Reason = "Invoice questions this week need a human check",
        });

        Assert.Equal((OwnerKind.Queue, "billing:en"), (sent.Summary.Owner.Kind, sent.Summary.Owner.Id));
        Assert.Equal("sent-to-queue-by-supervisor", sent.Ledger[^1].ReasonCode);
        var transcript = await client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(StatusKind.Queued, transcript.Entries[^1].Status.Kind);
        Assert.Equal("An adviser is taking over this conversation. They will see everything we have discussed so far.", transcript.Entries[^2].Message.Text);

        await Eventually.ReadAsync(
            () => supervisor.ListConversationsAsync(new ListConversationsRequest { Owner = OwnerKind.Queue }).ResponseAsync,
            r => r.Conversations.Any(c => c.ConversationId == conversationId && c.ReasonCode == "sent-to-queue-by-supervisor"));
        var floor = await Eventually.ReadAsync(() => supervisor.GetFloorAsync(new GetFloorRequest()).ResponseAsync, f => f.InQueues >= 1);
        Assert.Contains(floor.Queues, q => q.Queue == "billing:en" && q.Waiting >= 1);
    }

    [Fact]
    public async Task Bad_supervisor_requests_get_precise_statuses()
    {
        var supervisor = silo.Supervisor();
        var agentOnly = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("ann"));

        var denied = await Assert.ThrowsAsync<RpcException>(() => agentOnly.GetFloorAsync(new GetFloorRequest()).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => supervisor.GetConversationAsync(new SupervisorConversationRequest { ConversationId = "no-such-conversation" }).ResponseAsync);
        var noReason = await Assert.ThrowsAsync<RpcException>(() => supervisor.TakeOverAsync(new TakeOverRequest { ConversationId = "no-such-conversation", Reason = "" }).ResponseAsync);
        var noDesk = await Assert.ThrowsAsync<RpcException>(() => silo.Supervisor("nodesk").TakeOverAsync(new TakeOverRequest { ConversationId = "x", Reason = "r" }).ResponseAsync);
        var badQueue = await Assert.ThrowsAsync<RpcException>(() => supervisor.GetQueueHistoryAsync(new GetQueueHistoryRequest { Queue = "astrology:en" }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Equal((StatusCode.NotFound, "Conversation 'no-such-conversation' was not found."), (unknown.StatusCode, unknown.Status.Detail));
        Assert.Equal(StatusCode.InvalidArgument, noReason.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, noDesk.StatusCode);
        Assert.StartsWith("Supervisor 'nodesk' has no agent desk yet", noDesk.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, badQueue.StatusCode);
    }

    [Fact]
    public async Task A_supervised_conversation_the_bot_resolved_is_flagged_for_review_and_the_verdict_counts()
    {
        var client = silo.Client();
        var supervisor = silo.Supervisor("rita");
        var conversationId = await AskAsync(client, "Where is my parcel?");
        await client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId) });

        var waiting = await supervisor.ListReviewsAsync(new ListReviewsRequest { MaxResults = 500 });
        var review = waiting.Reviews.Single(r => r.ConversationId == conversationId);
        Assert.Equal(("delivery_tracking", ReviewVerdict.Unspecified), (review.Intent, review.Verdict));

        var decided = await supervisor.RecordReviewAsync(new RecordReviewRequest { ConversationId = conversationId, Verdict = ReviewVerdict.Approved, Note = "Right tracking answer" });
        Assert.Equal(("supervisor:rita", ReviewVerdict.Approved), (decided.ReviewedBy, decided.Verdict));
        var changed = await Assert.ThrowsAsync<RpcException>(() => supervisor.RecordReviewAsync(
            new RecordReviewRequest { ConversationId = conversationId, Verdict = ReviewVerdict.Rejected }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, changed.StatusCode);
        Assert.DoesNotContain((await supervisor.ListReviewsAsync(new ListReviewsRequest { MaxResults = 500 })).Reviews, r => r.ConversationId == conversationId);

        var policy = await Eventually.ReadAsync(
            () => supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync,
            p => p.Levels.Single(l => l.Intent == "delivery_tracking").Bot?.Reviewed >= 1);
        Assert.Equal(1.0, policy.Levels.Single(l => l.Intent == "delivery_tracking").Bot.ReviewApproval);
    }

    [Fact]
    public async Task The_supervisor_api_is_served_as_json_over_http1_on_the_console_port_with_the_same_rules()
    {
        using var http = new HttpClient { BaseAddress = new Uri(silo.ConsoleAddress), DefaultRequestVersion = HttpVersion.Version11 };

        using var anonymous = await http.GetAsync("/api/v1/floor");
        using var asAgent = await SendAsync(http, HttpMethod.Get, "/api/v1/floor", DevelopmentCredentials.AgentToken("ann"));
        using var floor = await SendAsync(http, HttpMethod.Get, "/api/v1/floor", SupervisorToken("sam"));
        using var level = await SendAsync(http, HttpMethod.Post, "/api/v1/automation/intents/astrology/level", SupervisorToken("sam"),
            """{"level":"AUTOMATION_LEVEL_HUMAN_ONLY","reason":"test"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asAgent.StatusCode);
        Assert.Equal(HttpStatusCode.OK, floor.StatusCode);
        Assert.Equal(new Version(1, 1), floor.Version);
        using var body = JsonDocument.Parse(await floor.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("queues").GetArrayLength() > 0);
        Assert.Equal(HttpStatusCode.BadRequest, level.StatusCode);
        Assert.Contains("astrology", await level.Content.ReadAsStringAsync());

        // Bad JSON is refused before any grain is asked.
        using var malformed = await SendAsync(http, HttpMethod.Post, "/api/v1/conversations/x/take-over", SupervisorToken("sam"), "{\"reason\": ");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        return await http.SendAsync(request);
    }

    private static string SupervisorToken(string id) => DevelopmentCredentials.AgentToken(id, AccessTokens.AgentRole, AccessTokens.SupervisorRole);

    private static async Task<string> AskAsync(ChannelService.ChannelServiceClient client, string text)
    {
        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage
            {
                MessageId = Addresses.Unique("m"),
                Conversation = Addresses.Thread(Addresses.Unique("supervised")),
                Customer = Addresses.Customer(Addresses.Unique("c")),
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
            new("ContactGrains:Automation:Levels:delivery_tracking", "Supervised"),
            new("ContactGrains:Automation:ReviewShare", "1"),
            new("ContactGrains:Automation:OutcomeFlushInterval", "00:00:00.200"),
        ];
    }
}
