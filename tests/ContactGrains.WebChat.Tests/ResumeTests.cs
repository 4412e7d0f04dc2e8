using ContactGrains.Persistence;
using ContactGrains.Testing;
using ContactGrains.WebChat.Tests.Hosts;

namespace ContactGrains.WebChat.Tests;

/// <summary>The web chat itself restarts under an open page: the page resumes by sequence, losing and repeating nothing.</summary>
[Collection(WebChatCollection.Name)]
public sealed class WebChatRestartTests(WebChatFixture fixture)
{
    [Fact]
    public async Task A_page_open_across_a_web_chat_restart_resumes_after_its_last_entry()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address);
        await chat.TypeAndSendAsync("Where is my refund?");
        var first = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's first answer");

        await fixture.WebChat.StopAsync();
        await chat.Page.Locator("#status[data-state='reconnecting']").WaitForAsync();
        Assert.Equal("Connection lost, reconnecting…", await chat.TextOfAsync("#status-text"));
        await fixture.WebChat.StartAsync();
        await chat.WaitOnlineAsync();

        await chat.TypeAndSendAsync("How do I return an item?");
        await chat.WaitForEntryAsync(e => e.Kind == "bot" && e.Id != first.Id, "the bot's second answer");
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, first.ConversationId);
    }
}

/// <summary>A silo with durable storage (PostgreSQL), so that a restart keeps the conversation, as in production.</summary>
public sealed class DurableWebChatFixture : WebChatFixture
{
    private PostgresServer? _postgres;
    private string _connectionString = "";

    public override async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _connectionString = await _postgres.CreateDatabaseAsync("webchat");
        await SchemaMigrator.MigrateAsync(_connectionString);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    protected override SiloHost CreateSilo() => new(_connectionString);
}

[CollectionDefinition(Name)]
public sealed class DurableWebChatCollection : ICollectionFixture<DurableWebChatFixture>
{
    public const string Name = "webchat-durable";
}

/// <summary>
/// The silo restarts under an open page: the web chat's ChannelConnection reconnects and resumes,
/// a message sent while the silo was down is stored once when it is back, and the page shows
/// every entry once, in order.
/// </summary>
[Collection(DurableWebChatCollection.Name)]
public sealed class SiloRestartTests(DurableWebChatFixture fixture)
{
    [Fact]
    public async Task A_silo_restart_loses_and_repeats_nothing_on_the_page()
    {
        await using var chat = await fixture.Chromium.OpenChatAsync(fixture.WebChat.Address);
        await chat.TypeAndSendAsync("Where is my refund?");
        var first = await chat.WaitForEntryAsync(e => e.Kind == "bot", "the bot's first answer");
        var conversationId = first.ConversationId;

        await fixture.Silo.StopAsync();

        // Written while no silo runs: the page shows it as being sent, and the web chat holds it.
        const string whileDown = "How do I return an item?";
        await chat.TypeAndSendAsync(whileDown);
        await chat.Page.Locator("#log .entry[data-state]").First.WaitForAsync();

        await fixture.Silo.StartAsync();
        var second = await chat.WaitForEntryAsync(e => e.Kind == "bot" && e.Id != first.Id, "the answer to the message sent while the silo was down");
        Assert.Equal(conversationId, second.ConversationId);

        // And the live stream goes on after the restart.
        await chat.TypeAndSendAsync("Do you deliver on Sundays?");
        await chat.WaitForEntryAsync(e => e.Kind == "bot" && e.Sequence > second.Sequence, "an answer after the restart");

        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, conversationId);
        Assert.Equal(1, PageAssertions.CountCustomerMessages(await fixture.TranscriptAsync(conversationId), whileDown));
        var last = (await chat.EntriesAsync())[^1];

        await chat.ReloadAsync();
        await chat.WaitForEntryAsync(e => e.Id == last.Id, "the last entry again after the reload");
        await PageAssertions.AssertShowsExactlyAsync(chat, fixture, conversationId);
    }
}
