using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cluster.Tests;

/// <summary>Reads whole transcripts through the unary API, page by page.</summary>
internal static class Transcripts
{
    private const int Attempts = 40;

    /// <summary>Every entry of a conversation and its last sequence. UNAVAILABLE is retried (a silo just died).</summary>
    public static async Task<(IReadOnlyList<TimelineEntry> Entries, long LastSequence)> ReadAsync(
        ChannelService.ChannelServiceClient client, string conversationId)
    {
        var transcript = await ReadAsync(client, new ConversationAddress { ConversationId = conversationId });
        return (transcript.Entries, transcript.LastSequence);
    }

    /// <summary>
    /// The whole transcript of the conversation <paramref name="address"/> names (by id, or by the
    /// calling channel's thread id), every page read through that address. UNAVAILABLE is retried.
    /// </summary>
    public static async Task<Transcript> ReadAsync(ChannelService.ChannelServiceClient client, ConversationAddress address)
    {
        var entries = new List<TimelineEntry>();
        var conversationIds = new List<string>();
        ulong after = 0;
        ulong last;
        do
        {
            var page = await RetryUnavailableAsync(() => client.GetTranscriptAsync(
                new GetTranscriptRequest
                {
                    Conversation = address,
                    AfterSequence = after,
                    MaxEntries = 500,
                },
                deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
            entries.AddRange(page.Entries);
            if (!conversationIds.Contains(page.ConversationId, StringComparer.Ordinal))
            {
                conversationIds.Add(page.ConversationId);
            }

            last = page.LastSequence;
            if (page.Entries.Count == 0)
            {
                break;
            }

            after = page.Entries[^1].Sequence;
        }
        while (after < last);

        return new Transcript(string.Join(" then ", conversationIds), entries, (long)last);
    }

    public static async Task<T> RetryUnavailableAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < Attempts)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>The adapter message ids of the transcript's customer messages, in timeline order.</summary>
    public static IReadOnlyList<string> CustomerMessageIds(IEnumerable<TimelineEntry> entries) =>
        [.. entries.Where(e => e.Message is { Sender: SenderKind.Customer }).Select(e => e.Message.AdapterMessageId)];
}

/// <summary>
/// A transcript as read: the conversation id the responses named (several, joined with " then ",
/// if pages disagreed), every entry, and the conversation's last sequence.
/// </summary>
internal sealed record Transcript(string ConversationId, IReadOnlyList<TimelineEntry> Entries, long LastSequence);
