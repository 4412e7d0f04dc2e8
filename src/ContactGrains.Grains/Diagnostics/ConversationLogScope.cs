using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Diagnostics;

/// <summary>
/// Puts the conversation id in the log scope of everything a conversation grain call logs (the
/// grain, the bot, the policy, storage), so one conversation's story can be read from the logs.
/// </summary>
public sealed class ConversationLogScope(ILoggerFactory loggers) : IIncomingGrainCallFilter
{
    private readonly ILogger _logger = loggers.CreateLogger("ContactGrains.Conversations");

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is not ConversationGrain conversation)
        {
            await context.Invoke();
            return;
        }

        using (_logger.BeginScope(new ConversationScope(conversation.Id)))
        {
            await context.Invoke();
        }
    }

    /// <summary>One key, "ConversationId", as structured scope state (what OpenTelemetry and JSON loggers read).</summary>
    private sealed class ConversationScope(string conversationId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("ConversationId", conversationId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"ConversationId:{conversationId}";
    }
}
