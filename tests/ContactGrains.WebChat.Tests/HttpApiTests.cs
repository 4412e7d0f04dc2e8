using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ContactGrains.WebChat.Sessions;

namespace ContactGrains.WebChat.Tests;

/// <summary>The web chat's HTTP API without a browser: bad input gets a clear status and sentence, never a 500; a retried POST is stored once.</summary>
[Collection(WebChatCollection.Name)]
public sealed class HttpApiTests(WebChatFixture fixture)
{
    [Fact]
    public async Task Bad_messages_get_400_with_a_code_and_a_sentence_in_the_customers_language()
    {
        using var visitor = await VisitorAsync();

        await AssertProblemAsync(await PostAsync(visitor, new { id = "m1", text = "" }), HttpStatusCode.BadRequest, "empty-text", "Type a message before sending.");
        await AssertProblemAsync(await PostAsync(visitor, new { id = "m1", text = " \n\t " }), HttpStatusCode.BadRequest, "empty-text", "Type a message before sending.");
        await AssertProblemAsync(await PostAsync(visitor, new { id = "m1" }), HttpStatusCode.BadRequest, "empty-text", "Type a message before sending.");
        await AssertProblemAsync(
            await PostAsync(visitor, new { id = "m1", text = new string('a', 2001) }),
            HttpStatusCode.BadRequest, "text-too-long", "Your message is too long: 2000 characters at most.");
        await AssertProblemAsync(await PostAsync(visitor, new { id = "", text = "hello" }), HttpStatusCode.BadRequest, "invalid-message-id", null);
        await AssertProblemAsync(await PostAsync(visitor, new { id = "has spaces", text = "hello" }), HttpStatusCode.BadRequest, "invalid-message-id", null);
        await AssertProblemAsync(await PostAsync(visitor, new { id = new string('x', 65), text = "hello" }), HttpStatusCode.BadRequest, "invalid-message-id", null);
        await AssertProblemAsync(await PostAsync(visitor, new { text = "hello" }), HttpStatusCode.BadRequest, "invalid-message-id", null);
        await AssertProblemAsync(
            await visitor.PostAsync("/api/messages", new StringContent("{\"id\": \"m1\", \"text\": ", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "bad-request", "The request could not be read.");
        await AssertProblemAsync(
            await visitor.PostAsync("/api/messages", new StringContent("[1, 2]", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "bad-request", null);
        await AssertProblemAsync(
            await visitor.PostAsync("/api/messages", new StringContent("hello", Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, "bad-request", null);

        await AssertProblemAsync(
            await PostAsync(visitor, new { id = "m1", text = new string('a', 100_000) }),
            HttpStatusCode.RequestEntityTooLarge, "bad-request", "The request could not be read.");

        // The same refusal in French, from the browser's Accept-Language.
        using var french = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = JsonContent.Create(new { id = "m1", text = "" }) };
        french.Headers.AcceptLanguage.ParseAdd("fr-FR,fr;q=0.9,en;q=0.5");
        await AssertProblemAsync(await visitor.SendAsync(french), HttpStatusCode.BadRequest, "empty-text", "Écrivez un message avant de l'envoyer.");
    }

    [Fact]
    public async Task Requests_without_a_session_this_app_signed_get_401()
    {
        using var stranger = Client(cookie: null);
        await AssertProblemAsync(await PostAsync(stranger, new { id = "m1", text = "hello" }), HttpStatusCode.Unauthorized, "unknown-session",
            "Your chat session has expired. Reload the page to continue.");
        await AssertProblemAsync(await stranger.GetAsync("/api/events"), HttpStatusCode.Unauthorized, "unknown-session", null);
        await AssertProblemAsync(await stranger.PostAsync("/api/close", null), HttpStatusCode.Unauthorized, "unknown-session", null);
        await AssertProblemAsync(await stranger.GetAsync("/api/session"), HttpStatusCode.Unauthorized, "unknown-session", null);

        using var forger = Client(cookie: "CfDJ8-not-a-real-session");
        await AssertProblemAsync(await PostAsync(forger, new { id = "m1", text = "hello" }), HttpStatusCode.Unauthorized, "unknown-session", null);
    }

    [Fact]
    public async Task A_retried_post_is_stored_once()
    {
        using var visitor = await VisitorAsync();
        var first = await PostAsync(visitor, new { id = "retry-1", text = "Where is my refund?" });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var accepted = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("accepted", accepted.GetProperty("status").GetString());

        // The page did not get the answer and sends the same message again; twice at once, even.
        var again = await Task.WhenAll(
            PostAsync(visitor, new { id = "retry-1", text = "Where is my refund?" }),
            PostAsync(visitor, new { id = "retry-1", text = "Where is my refund?" }));
        foreach (var response in again)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var duplicate = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("duplicate", duplicate.GetProperty("status").GetString());
            Assert.Equal(accepted.GetProperty("sequence").GetUInt64(), duplicate.GetProperty("sequence").GetUInt64());
        }

        var transcript = await fixture.TranscriptAsync(accepted.GetProperty("conversationId").GetString()!);
        Assert.Equal(1, PageAssertions.CountCustomerMessages(transcript, "Where is my refund?"));
    }

    [Fact]
    public async Task Ending_a_chat_that_never_started_is_404_and_the_session_check_is_204()
    {
        using var visitor = await VisitorAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await visitor.GetAsync("/api/session")).StatusCode);
        await AssertProblemAsync(await visitor.PostAsync("/api/close", null), HttpStatusCode.NotFound, "no-conversation", "There is no conversation to end.");
    }

    /// <summary>A browser that opened the page: it has the session cookie.</summary>
    private async Task<HttpClient> VisitorAsync()
    {
        var client = Client(cookie: null, useCookies: true);
        var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith(VisitorSessions.CookieName + "=", StringComparison.Ordinal));
        return client;
    }

    private HttpClient Client(string? cookie, bool useCookies = false)
    {
        var handler = new HttpClientHandler { UseCookies = useCookies };
        var client = new HttpClient(handler) { BaseAddress = new Uri(fixture.WebChat.Address), Timeout = TimeSpan.FromSeconds(90) };
        if (cookie is not null)
        {
            client.DefaultRequestHeaders.Add("Cookie", $"{VisitorSessions.CookieName}={cookie}");
        }

        return client;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, object body) => client.PostAsJsonAsync("/api/messages", body);

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? title)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        if (title is not null)
        {
            Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        }
    }
}
