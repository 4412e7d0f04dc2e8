using ContactGrains.WebChat.Tests.Hosts;

namespace ContactGrains.WebChat.Tests;

/// <summary>A customer in a real browser: the bot, a queue, an agent, a reload; in English and in French.</summary>
[Collection(WebChatCollection.Name)]
public sealed class CustomerJourneyTests(WebChatFixture fixture)
{
    [Fact]
    public async Task The_bot_answers_then_an_agent_joins_and_a_reload_shows_the_whole_conversation_once()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address);
        Assert.Equal("ContactGrains support", await chat.Page.TitleAsync());
        Assert.Equal("Type your message…", await chat.Page.Locator("#message").GetAttributeAsync("placeholder"));
        Assert.Equal("Online", await chat.TextOfAsync("#status-text"));

        await chat.TypeAndSendAsync("Where is my refund?");
        var answer = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's answer");
        Assert.Contains("refund", answer.Text, StringComparison.OrdinalIgnoreCase);
        await chat.ScreenshotAsync("webchat-bot.png");
        var conversationId = answer.ConversationId;

        await using var agent = await TestAgent.SignInAsync(fixture.Silo.Address, "Alice");
        await chat.TypeAndSendAsync("I want to speak to a human");
        var queued = await chat.WaitForEntryAsync(e => e.Status == "queued", "the queue notice");
        Assert.Matches(@"^You are number \d+ in the queue\.", queued.Text);

        var offer = await agent.AcceptOfferForAsync(conversationId);
        Assert.EndsWith(":en", offer.Queue, StringComparison.Ordinal); // the page's language reached the cluster
        var joined = await chat.WaitForEntryAsync(e => e.Status == "agent-joined", "the agent joining");
        Assert.StartsWith("Alice joined the conversation.", joined.Text, StringComparison.Ordinal);

        const string agentText = "Hi, I'm Alice. Your refund was issued yesterday: it reaches your card within 5 business days.";
        await agent.SendAsync(conversationId, agentText);
        await chat.WaitForEntryAsync(e => e.Kind == "agent" && e.Text == agentText, "the agent's message");
        Assert.Equal("Alice", await chat.Page.Locator("#log .entry-agent .sender").First.InnerTextAsync());
        await chat.TypeAndSendAsync("Great, thank you!");
        await chat.WaitForEntryAsync(e => e.Kind == "customer" && e.Text == "Great, thank you!", "the customer's reply");
        await chat.ScreenshotAsync("webchat-agent.png");
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, conversationId);

        // The same conversation on a phone.
        await chat.Page.SetViewportSizeAsync(390, 844);
        await chat.ScreenshotAsync("webchat-mobile.png");
        await chat.Page.SetViewportSizeAsync(1024, 820);
        var before = await chat.EntriesAsync();

        await chat.ReloadAsync();
        await chat.WaitForEntryAsync(e => e.Id == before[^1].Id, "the last entry again after the reload");
        var after = await chat.EntriesAsync();
        Assert.Equal(before, after);
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, conversationId);

        await agent.Connection.ResolveAsync(conversationId, "info-given");
        await chat.WaitForEntryAsync(e => e.Status == "closed", "the conversation closing");
        Assert.True(await chat.Page.Locator("#end-chat").IsHiddenAsync());
    }

    [Fact]
    public async Task The_page_speaks_French_when_asked_and_tells_the_cluster()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address, locale: "en-GB", path: "/?lang=fr");
        Assert.Equal("fr", await chat.Page.Locator("html").GetAttributeAsync("lang"));
        Assert.Equal("Assistance ContactGrains", await chat.Page.TitleAsync());
        Assert.Equal("Écrivez votre message…", await chat.Page.Locator("#message").GetAttributeAsync("placeholder"));
        Assert.Equal("Envoyer", (await chat.TextOfAsync("#send")).Trim());
        Assert.Equal("En ligne", await chat.TextOfAsync("#status-text"));
        Assert.StartsWith("Bonjour !", await chat.TextOfAsync(".entry-welcome .bubble"), StringComparison.Ordinal);

        await chat.TypeAndSendAsync("Où est mon remboursement ?");
        var answer = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's answer");
        var conversationId = answer.ConversationId;
        Assert.Equal("Conversation commencée", (await chat.WaitForEntryAsync(e => e.Status == "started", "the start")).Text.Split(" · ")[0]);

        await using var agent = await TestAgent.SignInAsync(fixture.Silo.Address, "Camille");
        await chat.TypeAndSendAsync("Je veux parler à un conseiller");
        var queued = await chat.WaitForEntryAsync(e => e.Status == "queued", "the queue notice");
        Assert.Matches(@"^Vous êtes numéro \d+ dans la file d'attente\.", queued.Text);
        var offer = await agent.AcceptOfferForAsync(conversationId);
        Assert.EndsWith(":fr", offer.Queue, StringComparison.Ordinal);
        var joined = await chat.WaitForEntryAsync(e => e.Status == "agent-joined", "the agent joining");
        Assert.StartsWith("Camille a rejoint la conversation.", joined.Text, StringComparison.Ordinal);
        const string agentText = "Bonjour, je suis Camille. Votre remboursement a été émis hier : il arrive sur votre carte sous 5 jours ouvrés.";
        await agent.SendAsync(conversationId, agentText);
        await chat.WaitForEntryAsync(e => e.Kind == "agent" && e.Text == agentText, "the agent's message");
        await chat.ScreenshotAsync("webchat-fr.png");
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, conversationId);

        // The choice sticks: the same browser without ?lang= still reads French.
        await chat.GotoAsync("/");
        Assert.Equal("Assistance ContactGrains", await chat.Page.TitleAsync());
        await agent.Connection.ResolveAsync(conversationId, "info-given");
    }

    [Fact]
    public async Task Ending_the_chat_closes_it_and_the_next_message_starts_a_new_conversation_on_the_same_thread()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address);
        await chat.TypeAndSendAsync("Where is my refund?");
        var first = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's answer");

        await chat.Page.Locator("#end-chat").ClickAsync();
        var closed = await chat.WaitForEntryAsync(e => e.Status == "closed", "the conversation closing");
        Assert.StartsWith("This conversation is closed. Send a message to start a new one.", closed.Text, StringComparison.Ordinal);
        Assert.True(await chat.Page.Locator("#end-chat").IsHiddenAsync());

        await chat.TypeAndSendAsync("How do I return an item?");
        var next = await chat.WaitForEntryAsync(e => e.Kind == "bot" && e.ConversationId != first.ConversationId, "an answer in a new conversation");
        Assert.Equal(1, await chat.Page.Locator("#log .notice-divider").CountAsync());
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, first.ConversationId);
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, next.ConversationId);

        // A reload shows the thread's current conversation.
        await chat.ReloadAsync();
        await chat.WaitForEntryAsync(e => e.Id == next.Id, "the new conversation after the reload");
        Assert.All(await chat.EntriesAsync(), e => Assert.Equal(next.ConversationId, e.ConversationId));
    }

    [Fact]
    public async Task After_the_chat_ends_the_customer_rates_it_with_one_tap_and_is_thanked_in_their_language()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address, path: "/?lang=fr");
        await chat.TypeAndSendAsync("Où est mon remboursement ?");
        var answer = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's answer");

        await chat.Page.Locator("#end-chat").ClickAsync();
        var question = await chat.WaitForEntryAsync(e => e.Status == "rating-requested", "the rating question");
        Assert.Equal("Comment évaluez-vous l'aide reçue aujourd'hui, de 1 (mauvais) à 5 (excellent) ?", question.Text);
        var buttons = chat.Page.Locator(".notice-rating-requested .rating button");
        Assert.Equal(5, await buttons.CountAsync());
        Assert.Equal("4 sur 5", await buttons.Nth(3).GetAttributeAsync("aria-label"));
        await chat.ScreenshotAsync("webchat-rating.png");

        await buttons.Nth(3).ClickAsync();

        var thanks = await chat.WaitForEntryAsync(e => e.Status == "rating-received", "the thanks");
        Assert.Equal("Merci pour votre note.", thanks.Text);
        Assert.Equal(answer.ConversationId, thanks.ConversationId); // the answer went to the closed conversation, not a new one
        Assert.Contains(await chat.EntriesAsync(), e => e.Kind == "customer" && e.Text == "4" && e.ConversationId == answer.ConversationId);
        Assert.True(await buttons.Nth(0).IsDisabledAsync());
        Assert.Equal(0, await chat.Page.Locator("#log .notice-divider").CountAsync());
        Assert.True(await chat.Page.Locator("#end-chat").IsHiddenAsync()); // still closed
        await chat.ScreenshotAsync("webchat-rated.png");
    }

    [Fact]
    public async Task A_French_browser_gets_French_without_asking()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address, locale: "fr-FR");
        Assert.Equal("Assistance ContactGrains", await chat.Page.TitleAsync());
        Assert.Equal("Votre message", await chat.TextOfAsync("label[for='message']"));
        Assert.Equal("Entrée pour envoyer, Maj+Entrée pour aller à la ligne", await chat.TextOfAsync("#hint"));
    }
}
