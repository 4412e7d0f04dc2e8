using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Conversations;

[GenerateSerializer, Alias("cg.ConversationThreadState")]
public sealed class ConversationThreadState
{
    /// <summary>The conversation new messages on this thread go to.</summary>
    [Id(0)] public string? CurrentConversationId { get; set; }
    /// <summary>
    /// False only in rows stored by earlier versions between choosing an id and the conversation
    /// confirming its start; the thread now stores the id once the conversation has started.
    /// </summary>
    [Id(1)] public bool CurrentStarted { get; set; }
    /// <summary>Conversations started on the thread: the next one's id is derived from it (ConversationIds).</summary>
    [Id(2)] public int ConversationCount { get; set; }
    /// <summary>Who the thread belongs to, so a later conversation can start without the adapter repeating it.</summary>
    [Id(3)] public CustomerIdentity? Customer { get; set; }
}

/// <summary>
/// Maps an adapter thread to its current conversation. A thread outlives its conversations: once
/// one is closed, the next message on the thread starts a new one.
/// </summary>
// Called when a conversation starts, and when a silo's router does not know the thread yet (see
// ThreadDirectory): an idle activation is dropped after 2 minutes (Orleans' default, 15).
[CollectionAgeLimit(Minutes = 2)]
public sealed class ConversationThreadGrain(
    [PersistentState("thread", StorageNames.Default)] IPersistentState<ConversationThreadState> state,
    IOptions<ConversationIdOptions> ids,
    ILogger<ConversationThreadGrain> logger)
    : Grain, IConversationThreadGrain
{
    private ConversationThreadState State => state.State;

    public Task<string?> Find(CancellationToken cancellationToken) => Task.FromResult(State.CurrentStarted ? State.CurrentConversationId : null);

    public async Task<ThreadConversation?> GetOrStart(CustomerIdentity? customer, string? knownClosedId, CancellationToken cancellationToken)
    {
        if (State.CurrentConversationId is { } current && State.CurrentStarted)
        {
            if (current != knownClosedId)
            {
                return new ThreadConversation(current, Created: false);
            }

            // The caller says it is closed; believe the conversation, not the caller.
            var snapshot = await GrainFactory.Get<IConversationGrain>(current).GetSnapshot();
            if (snapshot.Status == ConversationStatus.Open)
            {
                return new ThreadConversation(current, Created: false);
            }
        }

        // A thread (a phone number, a chat) belongs to one customer: remember them for its next conversation.
        customer ??= State.Customer;
        if (customer is null)
        {
            return null;
        }

        // The thread's next conversation has a fixed id (ConversationIds), so a crash between its start
        // and the write below is retried on the same conversation; Start is idempotent. A row stored by
        // an earlier version may name a chosen conversation not yet started: that one is the next.
        var key = this.GetPrimaryKeyString();
        var id = State.CurrentConversationId is { } chosen && !State.CurrentStarted
            ? chosen
            : ConversationIds.ForThread(key, State.ConversationCount, ids.Value.Seed);
        var (channel, threadId) = ParseKey(key);
        await GrainFactory.Get<IConversationGrain>(id).Start(new StartConversation(channel, threadId, customer));

        // Only a stored "started" makes the conversation the thread's: if this write fails, the
        // activation forgets it too, and the retry starts (idempotently) the same conversation again.
        await state.CommitAsync(this, logger, () =>
        {
            State.Customer = customer;
            State.CurrentConversationId = id;
            State.CurrentStarted = true;
            State.ConversationCount++;
        });

        // The router of the silo that asked remembers the thread from here on (ThreadDirectory), so the
        // activation would mostly hold memory for its collection age: let it go now. A lookup by thread
        // (another silo's first message, the web chat's event stream) wakes it again with one read.
        DeactivateOnIdle();
        return new ThreadConversation(id, Created: true);
    }

    private static (string Channel, string ThreadId) ParseKey(string key)
    {
        // Channel names cannot contain ':' (validated at the edge), thread ids can.
        var separator = key.IndexOf(':', StringComparison.Ordinal);
        return (key[..separator], key[(separator + 1)..]);
    }
}
