using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Outcomes close the loop over real gRPC: a resolved conversation asks for a rating, the rating
/// counts for the side that resolved it, and bad bot ratings against good human ones demote the
/// intent, so the next conversation about it goes to a human. On a silo of its own, with a minimum
/// sample of 3 and outcomes sent every 200 ms.
/// </summary>
public sealed class OutcomeTests(OutcomeTests.Fixture silo) : IClassFixture<OutcomeTests.Fixture>
{
    [Fact]
    public async Task A_conversation_closed_by_the_adapter_asks_for_a_rating_in_the_customers_language_and_takes_it_once()
    {
        var client = silo.Client();
        var conversationId = await AskAsync(client, "Où est mon remboursement ?", "fr");

        var closed = await client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        var transcript = await client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId) });
        var asked = transcript.Entries[^2];

        Assert.Equal(StatusKind.RatingRequested, asked.Status.Kind);
        Assert.Equal("Comment évaluez-vous l'aide reçue aujourd'hui, de 1 (mauvais) à 5 (excellent) ?", asked.Status.Detail);
        Assert.Equal(StatusKind.Closed, transcript.Entries[^1].Status.Kind);
        Assert.Equal(4u, (await client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(conversationId), Rating = 4 })).Rating);
        Assert.Equal(4u, (await client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(conversationId), Rating = 4 })).Rating);
        var again = await Assert.ThrowsAsync<RpcException>(() => client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(conversationId), Rating = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        var outOfRange = await Assert.ThrowsAsync<RpcException>(() => client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(conversationId), Rating = 6 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, outOfRange.StatusCode);
        Assert.Equal(ConversationStatus.Closed, closed.Conversation.Status);
    }

    [Fact]
    public async Task A_customer_may_answer_the_rating_question_with_a_message_and_anything_else_starts_a_new_conversation()
    {
        var client = silo.Client();
        var thread = Addresses.Unique("rate-by-message");
        var customer = Addresses.Customer(Addresses.Unique("c"));
        var first = await SendOnThreadAsync(client, thread, customer, "What are your opening hours?");
        await client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(first.Ack.ConversationId) });

        var rated = await SendOnThreadAsync(client, thread, customer, "4/5");
        var again = await SendOnThreadAsync(client, thread, customer, "5");

        Assert.Equal(first.Ack.ConversationId, rated.Ack.ConversationId);
        Assert.Equal([StatusKind.RatingReceived], rated.Entries.Where(e => e.Status is not null).Select(e => e.Status.Kind));
        Assert.Equal("Thank you for your rating.", rated.Entries[^1].Status.Detail);
        Assert.NotEqual(first.Ack.ConversationId, again.Ack.ConversationId); // rated already: "5" is a new conversation
        var supervisor = silo.Supervisor();
        await Eventually.ReadAsync(
            () => supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync,
            p => p.Levels.Single(l => l.Intent == "opening_hours").Bot?.Rated >= 1);
    }

    [Fact]
    public async Task Bad_bot_ratings_demote_the_intent_and_the_next_conversation_on_it_goes_to_a_human()
    {
        var client = silo.Client();
        var supervisor = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("sam", AccessTokens.SupervisorRole));
        Assert.Equal(AutomationLevel.Supervised, Level(await supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()), "delivery_tracking"));
        await using var desk = await TestDesk.ConnectAsync(silo, "olga", TestDesk.Profile("Olga", "delivery:4", "en", capacity: 10));

        // Three customers the bot answered and who rated it 1; three the bot answered, who then asked
        // for a person, were helped by Olga and rated her 5.
        for (var i = 0; i < 3; i++)
        {
            var botOnly = await AskAsync(client, "Where is my parcel?");
            await client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(botOnly) });
            await client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(botOnly), Rating = 1 });

            var helped = await AskAsync(client, "Where is my parcel?");
            await AskAsync(client, "I want to speak to a human", conversationId: helped);
            await desk.AcceptOfferForAsync(helped);
            await desk.Connection.ResolveAsync(helped, "order-found");
            await client.RateConversationAsync(new RateConversationRequest { Conversation = Addresses.Conversation(helped), Rating = 5 });
        }

        // The figures reach the intent within a batch or two, and the rule demotes it: supervised → copilot.
        var policy = await Eventually.ReadAsync(
            () => supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync,
            p => Level(p, "delivery_tracking") == AutomationLevel.Copilot);
        var demotion = policy.Audit.Last(c => c.Intent == "delivery_tracking");

        // What the supervisor sees beside the level: the bot's three resolutions and three escalations, the humans' three.
        var figures = policy.Levels.Single(l => l.Intent == "delivery_tracking");
        Assert.Equal((6u, 3u, 1.0, 0.5), (figures.Bot.Conversations, figures.Bot.Rated, figures.Bot.AverageRating, figures.Bot.EscalationRate));
        Assert.Equal((3u, 3u, 5.0), (figures.Human.Conversations, figures.Human.Rated, figures.Human.AverageRating));
        Assert.Equal("demotion-rule", demotion.ChangedBy);
        Assert.Equal((AutomationLevel.Supervised, AutomationLevel.Copilot), (demotion.From, demotion.To));
        Assert.Equal("The bot's mean rating is 1.00 over 3 rated conversations, the humans' 5.00 over 3: 4.00 behind, the margin is 0.50.", demotion.Reason);

        // Supervisors see it on the floor, with its evidence.
        var alert = (await supervisor.GetFloorAsync(new GetFloorRequest())).RecentDemotions.First(c => c.Intent == "delivery_tracking");
        Assert.Equal((AutomationLevel.Copilot, demotion.Reason), (alert.To, alert.Reason));

        // The next customer asking about an order is handed to a human at once.
        var next = await AskAsync(client, "Where is my parcel?");
        var view = await client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(next) });
        Assert.Equal(OwnerKind.Queue, view.Owner.Kind);
        Assert.Equal("copilot-intent", view.Ledger[^1].ReasonCode);

        // A supervisor promotes it back, seeing the evidence; the audit shows who and why.
        var promoted = await supervisor.SetAutomationLevelAsync(new SetAutomationLevelRequest { Intent = "delivery_tracking", Level = AutomationLevel.Supervised, Reason = "Tracking links fixed; bot answers checked" });
        Assert.Equal(("supervisor:sam", "Tracking links fixed; bot answers checked"), (promoted.Audit[^1].ChangedBy, promoted.Audit[^1].Reason));
    }

    [Fact]
    public async Task A_customer_who_comes_back_about_the_same_intent_counts_as_a_repeat_contact_for_whoever_resolved_it()
    {
        var client = silo.Client();
        var customerId = Addresses.Unique("repeat");
        var supervisor = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("sam", AccessTokens.SupervisorRole));

        // The bot answers and the adapter closes; the customer comes back about the same thing.
        var first = await AskAsync(client, "Can I get a copy of my invoice?", customerId: customerId);
        await client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(first) });
        var second = await AskAsync(client, "Can I get a copy of my invoice?", customerId: customerId);

        var view = await client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(second) });
        Assert.Equal("repeat-contact", view.Ledger[^1].ReasonCode);
        var policy = await Eventually.ReadAsync(
            () => supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync,
            p => p.Levels.Single(l => l.Intent == "invoice_copy").Bot?.RepeatContactRate == 1.0);
        Assert.Equal(1u, policy.Levels.Single(l => l.Intent == "invoice_copy").Bot.Conversations);
    }

    private static async Task<string> AskAsync(ChannelService.ChannelServiceClient client, string text, string language = "en", string? conversationId = null, string? customerId = null)
    {
        var customer = Addresses.Customer(customerId ?? Addresses.Unique("c"));
        customer.Language = language;
        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage
            {
                MessageId = Addresses.Unique("m"),
                Conversation = conversationId is null ? Addresses.Thread(Addresses.Unique("outcome")) : Addresses.Conversation(conversationId),
                Customer = conversationId is null ? customer : null,
                Text = text,
            },
        });
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        return response.Ack.ConversationId;
    }

    private static async Task<SendMessageResponse> SendOnThreadAsync(ChannelService.ChannelServiceClient client, string thread, CustomerIdentity customer, string text)
    {
        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Thread(thread), Customer = customer, Text = text },
        });
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        return response;
    }

    private static AutomationLevel Level(AutomationPolicy policy, string intent) => policy.Levels.Single(l => l.Intent == intent).Level;

    public sealed class Fixture : SiloFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("ContactGrains:Automation:Levels:delivery_tracking", "Supervised"),
            new("ContactGrains:Automation:Demotion:MinimumSample", "3"),
            new("ContactGrains:Automation:OutcomeFlushInterval", "00:00:00.200"),
        ];
    }
}
