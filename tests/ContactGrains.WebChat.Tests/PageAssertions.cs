using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Tests.Browser;

namespace ContactGrains.WebChat.Tests;

internal static class PageAssertions
{
    /// <summary>
    /// The page shows one conversation exactly as the cluster stored it: every entry once, in
    /// order, none missing (sequences 1..N), and nothing left in a "sending" state.
    /// </summary>
    public static async Task AssertShowsExactlyAsync(ChatPage chat, WebChatFixture fixture, string conversationId)
    {
        var entries = (await chat.EntriesAsync()).Where(e => e.ConversationId == conversationId).ToList();
        var transcript = await fixture.TranscriptAsync(conversationId);
        Assert.Equal(entries.Select(e => e.Id).Distinct().Count(), entries.Count);
        Assert.Equal(transcript.Select(e => e.Sequence), entries.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(1, transcript.Count).Select(i => (ulong)i), entries.Select(e => e.Sequence));
        foreach (var (shown, stored) in entries.Zip(transcript))
        {
            if (stored.Message is { } message)
            {
                Assert.Equal(message.Text.Trim(), shown.Text);
            }
        }

        Assert.Equal(0, await chat.Page.Locator("#log .entry[data-state]").CountAsync());
    }

    /// <summary>How often the customer's <paramref name="text"/> is stored in the conversation.</summary>
    public static int CountCustomerMessages(IEnumerable<TimelineEntry> transcript, string text) =>
        transcript.Count(e => e.Message is { Sender: SenderKind.Customer } m && m.Text == text);
}
