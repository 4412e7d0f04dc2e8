using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Diagnostics;

/// <summary>
/// Puts the conversation id in the log scope of everything a conversation grain call logs (the
/// grain, the bot, the policy, storage), so one conversation's story can be read from the logs.
/// </summary>
/// <remarks>
/// Not an async method, which would cost every call a state machine and a continuation: the scope
/// is an async-local value, so the call's awaits capture it with their execution context and its
/// continuations log inside it even though the scope is closed here as soon as the call has
/// returned its task (closing it restores the caller's own value, nothing else's).
/// </remarks>
public sealed class ConversationLogScope(ILoggerFactory loggers) : IIncomingGrainCallFilter
{
    private readonly ILogger _logger = loggers.CreateLogger("ContactGrains.Conversations");

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is not ConversationGrain conversation)
        {
            return context.Invoke();
        }

        using (_logger.BeginScope(conversation.LogScope))
        {
            return context.Invoke();
        }
    }

    /// <summary>One key, "ConversationId", as structured scope state (what OpenTelemetry and JSON loggers read).</summary>
    public sealed class ConversationScope(string conversationId) : IReadOnlyList<KeyValuePair<string, object?>>
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
