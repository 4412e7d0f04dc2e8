using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The bot-or-human judgement over real gRPC, one path per test: what the customer reads, the
/// ownership ledger (GetConversation) and, where an agent takes over, the reasons and signal values
/// in the offer's context. Each handoff goes to a queue (skill:language) of its own in this
/// collection's silo, except <c>general:en</c>, which two tests use one after the other.
/// </summary>
[Collection(JudgementSiloCollection.Name)]
public sealed class JudgementEndToEndTests(AgentSiloFixture silo)
{
    private const string HandoverFrustration =
        "I'm sorry this has been frustrating. I'm passing you to one of our advisers, who will see what we have discussed so far.";

    private const string HandoverSensitiveTopic =
        "This is something one of our advisers should handle with you personally. I'm passing you to an adviser now; they will see our conversation so far.";

    private const string HandoverRepeatedFailure =
        "I'm sorry, I'm not managing to help you with this. I'm passing you to one of our advisers, who will see our conversation so far.";

    private const string HandoverCustomerPreference = "As you prefer, I'm passing you to one of our advisers.";

    [Fact]
    public async Task Routine_questions_stay_with_the_bot()
    {
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await StartAsync(adapter, Customer(), "How do I return an item?");
        await SayAsync(adapter, conversationId, "What are the shipping fees?");

        var (view, entries) = await SettledAsync(adapter, conversationId);
        Assert.Equal(
            [("return_item", true), ("shipping_costs", true)],
            BotMessages(entries).Select(m => (m.Bot.Intent, m.Bot.Understood)));
        Assert.DoesNotContain(entries, e => e.Status?.Kind == StatusKind.Queued);
        Assert.Equal(new Owner { Kind = OwnerKind.Bot }, view.Owner);
        var only = Assert.Single(view.Ledger);
        Assert.Equal("new-conversation", only.ReasonCode);
        Assert.Equal(["new-conversation"], only.ReasonCodes);
        Assert.Empty(only.Signals);
    }

    [Fact]
    public async Task Single_word_request_and_long_explicit_request_both_reach_a_human()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("gina"), TestDesk.Profile("Gina", "general:3", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var requests = new[]
        {
            ("agent", "agent"),
            ("I've been going round in circles with this chat and I would really like to speak to a real person please", "real person"),
        };

        foreach (var (text, cue) in requests)
        {
            var conversationId = await StartAsync(adapter, Customer(), text);
            await WaitForQueuedAsync(adapter, conversationId);

            var (view, entries) = await SettledAsync(adapter, conversationId);
            Assert.Equal("speak_to_agent", Assert.Single(BotMessages(entries)).Bot.Intent);
            Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "general:en" }, view.Owner);
            Assert.Equal(["new-conversation", "customer-asked-for-human"], view.Ledger.Select(c => c.ReasonCode));
            var handoff = view.Ledger[1];
            Assert.Equal(["customer-asked-for-human"], handoff.ReasonCodes);
            AssertSignals(handoff, ("human-request", cue));

            var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
            AssertOfferCarries(handoff, offer, "general:en");
            await desk.Connection.AcceptAsync(offer.OfferId);
        }
    }

    [Fact]
    public async Task Declined_adviser_is_not_called_and_the_bot_answers_the_refund_question()
    {
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await StartAsync(adapter, Customer(), "I don't need an adviser, just tell me where my refund is");

        var (view, entries) = await SettledAsync(adapter, conversationId);
        var answer = Assert.Single(BotMessages(entries));
        Assert.Equal("refund_status", answer.Bot.Intent);
        Assert.True(answer.Bot.Understood);
        Assert.DoesNotContain(entries, e => e.Status?.Kind == StatusKind.Queued);
        Assert.Equal(new Owner { Kind = OwnerKind.Bot }, view.Owner);
        Assert.Equal(["new-conversation"], view.Ledger.Select(c => c.ReasonCode));
    }

    [Fact]
    public async Task Anger_building_over_two_messages_none_angry_enough_alone_reaches_a_human_for_frustration()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("dan"), TestDesk.Profile("Dan", "delivery:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);

        // Anger 0.3 ("still hasn't"): the bot answers and keeps the conversation.
        var conversationId = await StartAsync(adapter, Customer(), "my parcel still hasn't arrived");
        var (first, firstEntries) = await SettledAsync(adapter, conversationId);
        Assert.Equal("delivery_tracking", Assert.Single(BotMessages(firstEntries)).Bot.Intent);
        Assert.Equal(new Owner { Kind = OwnerKind.Bot }, first.Owner);

        // Anger 0.4 ("not happy"), under the single-message threshold (0.6); with the first, 0.7.
        await SayAsync(adapter, conversationId, "I'm not happy about this");
        await WaitForQueuedAsync(adapter, conversationId);

        var (view, entries) = await SettledAsync(adapter, conversationId);
        Assert.Equal(HandoverFrustration, BotMessages(entries).Last().Text);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "delivery:en" }, view.Owner);
        Assert.Equal(["new-conversation", "frustration"], view.Ledger.Select(c => c.ReasonCode));
        var handoff = view.Ledger[1];
        Assert.Equal(["frustration"], handoff.ReasonCodes);
        AssertSignals(handoff, ("anger", "0.4"), ("anger-cues", "exasperation"), ("anger-trend", "0.7"));

        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        AssertOfferCarries(handoff, offer, "delivery:en");
        Assert.Equal(10, offer.Priority);
    }

    [Fact]
    public async Task Sensitive_topic_reaches_a_human_at_the_first_message_although_the_bot_knew_the_answer()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("sam"), TestDesk.Profile("Sam", "security:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await StartAsync(adapter, Customer(), "Someone used my card, there's a payment I don't recognise");
        await WaitForQueuedAsync(adapter, conversationId);

        // The bot matched the intent with confidence, but says it is passing the customer on instead of answering.
        var (view, entries) = await SettledAsync(adapter, conversationId);
        Assert.Equal(["Started", "Customer", "Bot", "Queued"], entries.OrderBy(e => e.Sequence).Select(Describe));
        var handover = Assert.Single(BotMessages(entries));
        Assert.Equal(("suspicious_transaction", true), (handover.Bot.Intent, handover.Bot.Understood));
        Assert.Equal(HandoverSensitiveTopic, handover.Text);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "security:en" }, view.Owner);
        Assert.Equal(["new-conversation", "sensitive-topic"], view.Ledger.Select(c => c.ReasonCode));
        var handoff = view.Ledger[1];
        Assert.Equal(["sensitive-topic"], handoff.ReasonCodes);
        AssertSignals(handoff, ("topic", "fraud"), ("topic-cue", "someone used my"), ("human-only-intent", "suspicious_transaction"));

        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        AssertOfferCarries(handoff, offer, "security:en");
        Assert.Equal("fraud", offer.Context.HandoffSignals["topic"]);
    }

    [Fact]
    public async Task Two_messages_the_bot_cannot_understand_reach_a_human_for_repeated_failure()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("rita"), TestDesk.Profile("Rita", "general:3", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);

        var conversationId = await StartAsync(adapter, Customer(), "blorf the quantum giraffe");
        var (first, firstEntries) = await SettledAsync(adapter, conversationId);
        Assert.False(Assert.Single(BotMessages(firstEntries)).Bot.Understood);
        Assert.Equal(new Owner { Kind = OwnerKind.Bot }, first.Owner);

        await SayAsync(adapter, conversationId, "purple elephants dance on Tuesday");
        await WaitForQueuedAsync(adapter, conversationId);

        var (view, entries) = await SettledAsync(adapter, conversationId);
        var handover = BotMessages(entries).Last();
        Assert.False(handover.Bot.Understood);
        Assert.Equal(HandoverRepeatedFailure, handover.Text);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "general:en" }, view.Owner);
        Assert.Equal(["new-conversation", "repeated-failure"], view.Ledger.Select(c => c.ReasonCode));
        var handoff = view.Ledger[1];
        Assert.Equal(["repeated-failure"], handoff.ReasonCodes);
        AssertSignals(handoff, ("misses", "2"));

        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        AssertOfferCarries(handoff, offer, "general:en");
    }

    [Fact]
    public async Task Stated_preference_for_humans_sends_the_customers_next_conversation_to_a_human_at_its_first_message()
    {
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var customer = Customer();

        var earlier = await StartAsync(adapter, customer, "I always prefer talking to a real person");
        await WaitForQueuedAsync(adapter, earlier);
        var (said, _) = await SettledAsync(adapter, earlier);
        var preference = said.Ledger[1];
        Assert.Equal(["customer-preference", "customer-asked-for-human"], preference.ReasonCodes);
        AssertSignals(preference, ("prefers-humans", "said now"));
        Assert.Equal(ConversationStatus.Closed, (await adapter.CloseConversationAsync(earlier)).Status);

        // The same customer on a new thread, with a question the bot knows: a human all the same.
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("bea"), TestDesk.Profile("Bea", "billing:4", "en"));
        var conversationId = await StartAsync(adapter, customer, "I need a copy of my invoice");
        Assert.NotEqual(earlier, conversationId);
        await WaitForQueuedAsync(adapter, conversationId);

        var (view, entries) = await SettledAsync(adapter, conversationId);
        var handover = Assert.Single(BotMessages(entries));
        Assert.Equal("invoice_copy", handover.Bot.Intent);
        Assert.Equal(HandoverCustomerPreference, handover.Text);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "billing:en" }, view.Owner);
        Assert.Equal(["new-conversation", "customer-preference"], view.Ledger.Select(c => c.ReasonCode));
        var handoff = view.Ledger[1];
        Assert.Equal(["customer-preference"], handoff.ReasonCodes);
        AssertSignals(handoff, ("prefers-humans", "said before"));

        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        AssertOfferCarries(handoff, offer, "billing:en");
    }

    [Fact]
    public async Task French_customer_reads_the_handover_queue_agent_joined_resolved_and_closed_notices_in_French()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("claire"), TestDesk.Profile("Claire", "security:4", "fr"));

        // The queue knows the agent is available before the customer arrives, so QUEUED gives a place and a wait.
        Assert.Equal(1u, (await desk.WaitForQueueStatsAsync("security", "fr", s => s.AgentsAvailable == 1)).AgentsAvailable);
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await StartAsync(adapter, Customer("fr"), "Quelqu'un a utilisé ma carte, il y a un paiement que je ne reconnais pas");
        await WaitForQueuedAsync(adapter, conversationId);

        var (queued, entries) = await SettledAsync(adapter, conversationId);
        Assert.Equal(
            "C'est une demande qu'un de nos conseillers doit traiter personnellement avec vous. Je vous passe un conseiller ; il verra notre conversation.",
            Assert.Single(BotMessages(entries)).Text);
        Assert.Equal(
            "Vous êtes dans la file d'attente pour un conseiller. Position 1 : un conseiller devrait vous répondre en moins d'une minute.",
            Status(entries, StatusKind.Queued).Detail);
        var handoff = queued.Ledger[1];
        Assert.Equal(["sensitive-topic"], handoff.ReasonCodes);
        AssertSignals(handoff, ("topic", "fraud"), ("topic-cue", "quelqu un a utilise"));

        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        AssertOfferCarries(handoff, offer, "security:fr");
        await desk.Connection.AcceptAsync(offer.OfferId);
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.AgentJoined));
        Assert.Equal("Claire a rejoint la conversation.", Status(adapter.EntriesOf(conversationId), StatusKind.AgentJoined).Detail);

        await desk.Connection.ResolveAsync(conversationId, "card-blocked");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.Closed));
        var (closed, final) = await SettledAsync(adapter, conversationId);
        Assert.Equal("Votre conseiller a indiqué que votre demande est résolue.", Status(final, StatusKind.Resolved).Detail);
        Assert.Equal("Cette conversation est fermée.", Status(final, StatusKind.Closed).Detail);
        Assert.Equal(["new-conversation", "sensitive-topic", "offer-accepted", "resolved"], closed.Ledger.Select(c => c.ReasonCode));
    }

    [Fact]
    public async Task With_nobody_signed_in_the_customer_is_told_and_waits_until_the_first_agent_to_sign_in_accepts()
    {
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await StartAsync(adapter, Customer("fr"), "Je veux annuler ma commande");
        await SayAsync(adapter, conversationId, "Je veux parler à un conseiller");
        await WaitForQueuedAsync(adapter, conversationId);

        var (queued, entries) = await SettledAsync(adapter, conversationId);
        var status = Status(entries, StatusKind.Queued);
        Assert.Equal(
            "Vous êtes dans la file d'attente pour un conseiller. Aucun conseiller n'est disponible pour le moment : vous êtes numéro 1, "
            + "et un conseiller vous répondra dès que l'un d'eux sera libre. Vous pouvez continuer à écrire ; rien de ce que vous écrivez n'est perdu.",
            status.Detail);
        Assert.Equal(1u, status.QueuePosition);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "orders:fr" }, queued.Owner);
        Assert.Equal(["new-conversation", "customer-asked-for-human"], queued.Ledger.Select(c => c.ReasonCode));

        // Still queued: the customer writes again, the bot stays silent and the queue keeps the conversation.
        var again = await SayAsync(adapter, conversationId, "Vous êtes toujours là ?");
        var (waiting, _) = await SettledAsync(adapter, conversationId);
        Assert.Equal(again.Sequence, waiting.LastSequence);
        Assert.Equal(ConversationStatus.Open, waiting.Status);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "orders:fr" }, waiting.Owner);
        Assert.Equal(queued.Ledger, waiting.Ledger);

        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("olivier"), TestDesk.Profile("Olivier", "orders:4", "fr"));
        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal(conversationId, desk.OffersReceived.First().Context.ConversationId);
        AssertOfferCarries(queued.Ledger[1], offer, "orders:fr");
        Assert.Equal("un conseiller", offer.Context.HandoffSignals["human-request"]);

        var assignment = await desk.Connection.AcceptAsync(offer.OfferId);
        Assert.Equal(conversationId, assignment.ConversationId);
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.AgentJoined));
        var (answered, _) = await SettledAsync(adapter, conversationId);
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = desk.AgentId }, answered.Owner);
        Assert.Equal(["new-conversation", "customer-asked-for-human", "offer-accepted"], answered.Ledger.Select(c => c.ReasonCode));
    }

    [Fact]
    public async Task Agent_hands_back_to_the_bot_and_the_bot_answers_the_next_message()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("hal"), TestDesk.Profile("Hal", "account:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I want to close my account");
        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal(["customer-asked-for-human"], offer.Context.HandoffReasonCodes);
        Assert.Equal("a human", offer.Context.HandoffSignals["human-request"]);
        await desk.Connection.AcceptAsync(offer.OfferId);
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.AgentJoined));

        await desk.Connection.HandBackAsync(conversationId, "closure explained");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.BotResumed));
        await SayAsync(adapter, conversationId, "Where is my refund?");

        var (view, entries) = await SettledAsync(adapter, conversationId);
        var resumed = Status(entries, StatusKind.BotResumed);
        Assert.Equal("You are back with our virtual assistant.", resumed.Detail);
        var afterResume = entries.OrderBy(e => e.Sequence).SkipWhile(e => e.Status?.Kind != StatusKind.BotResumed).Skip(1).ToList();
        Assert.Equal(
            [(SenderKind.Customer, ""), (SenderKind.Bot, "refund_status")],
            afterResume.Select(e => (e.Message?.Sender ?? SenderKind.Unspecified, e.Message?.Bot?.Intent ?? "")));
        Assert.True(afterResume[1].Message.Bot.Understood);
        Assert.Equal(new Owner { Kind = OwnerKind.Bot }, view.Owner);
        Assert.Equal(
            ["new-conversation", "customer-asked-for-human", "offer-accepted", "handed-back"],
            view.Ledger.Select(c => c.ReasonCode));
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = desk.AgentId }, view.Ledger[3].From);
    }

    private static CustomerIdentity Customer(string language = "en") => Addresses.Customer(Addresses.Unique("cust"), language);

    /// <summary>A new thread's first message; returns the conversation it opened.</summary>
    private static async Task<string> StartAsync(AdapterStream adapter, CustomerIdentity customer, string text)
    {
        var messageId = Addresses.Unique("m");
        await adapter.SendMessageAsync(messageId, Addresses.Thread(Addresses.Unique("thread")), text, customer);
        var ack = await adapter.AckAsync(messageId);
        Assert.Equal(AckStatus.Accepted, ack.Status);
        return ack.ConversationId;
    }

    private static async Task<MessageAck> SayAsync(AdapterStream adapter, string conversationId, string text)
    {
        var ack = await adapter.SayAsync(conversationId, text);
        Assert.Equal(AckStatus.Accepted, ack.Status);
        return ack;
    }

    private static Task WaitForQueuedAsync(AdapterStream adapter, string conversationId) =>
        adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.Queued));

    /// <summary>The conversation as GetConversation reports it, once the adapter has received every entry up to its last.</summary>
    private async Task<(ConversationView View, IReadOnlyList<TimelineEntry> Entries)> SettledAsync(AdapterStream adapter, string conversationId)
    {
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Sequence == view.LastSequence));
        return (view, adapter.EntriesOf(conversationId));
    }

    private static IEnumerable<ChatMessage> BotMessages(IEnumerable<TimelineEntry> entries) =>
        entries.OrderBy(e => e.Sequence).Where(e => e.Message?.Sender == SenderKind.Bot).Select(e => e.Message);

    private static string Describe(TimelineEntry entry) => entry.Message?.Sender.ToString() ?? entry.Status.Kind.ToString();

    private static StatusEvent Status(IEnumerable<TimelineEntry> entries, StatusKind kind) =>
        Assert.Single(entries, e => e.Status?.Kind == kind).Status;

    private static void AssertSignals(OwnershipChange change, params (string Key, string Value)[] expected) =>
        Assert.Equal(expected, expected.Select(e => (e.Key, change.Signals.TryGetValue(e.Key, out var value) ? value : "(absent)")));

    /// <summary>The agent reads the same reasons and signal values as the ledger entry of the handoff.</summary>
    private static void AssertOfferCarries(OwnershipChange handoff, Offer offer, string queue)
    {
        Assert.Equal(queue, offer.Queue);
        Assert.Equal(handoff.ReasonCode, offer.Context.HandoffReasonCode);
        Assert.Equal(handoff.ReasonCodes, offer.Context.HandoffReasonCodes);
        Assert.Equal(new SortedDictionary<string, string>(handoff.Signals), new SortedDictionary<string, string>(offer.Context.HandoffSignals));
    }
}

/// <summary>
/// A silo of their own for the judgement tests: the nobody-signed-in path needs a queue that no
/// agent of another test class has joined, and these tests run one after the other within it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class JudgementSiloCollection : ICollectionFixture<AgentSiloFixture>
{
    public const string Name = "judgement-silo";
}
