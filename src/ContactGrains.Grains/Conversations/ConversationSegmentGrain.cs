using System.Collections.Immutable;
using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Conversations;

[GenerateSerializer, Alias("cg.ConversationSegmentState")]
public sealed class ConversationSegmentState
{
    [Id(0)] public ImmutableArray<TimelineEntry> Entries { get; set; } = [];
}

/// <summary>A sealed block of a conversation's older entries: written once, then read.</summary>
public sealed class ConversationSegmentGrain(
    [PersistentState("segment", StorageNames.Default)] IPersistentState<ConversationSegmentState> state,
    ILogger<ConversationSegmentGrain> logger)
    : Grain, IConversationSegmentGrain
{
    public async Task Seal(ImmutableArray<TimelineEntry> entries)
    {
        if (!state.State.Entries.IsDefaultOrEmpty)
        {
            // Sealed already (a retried seal): the first write is the truth.
            if (state.State.Entries[0].Sequence != entries[0].Sequence || state.State.Entries.Length != entries.Length)
            {
                throw new InvalidOperationException(
                    $"Segment {this.GetPrimaryKeyString()} already holds {state.State.Entries[0].Sequence}..{state.State.Entries[^1].Sequence}; refusing {entries[0].Sequence}..{entries[^1].Sequence}.");
            }

            return;
        }

        await state.CommitAsync(this, logger, () => state.State.Entries = entries);
    }

    public Task<ImmutableArray<TimelineEntry>> Read() =>
        Task.FromResult(state.State.Entries.IsDefault ? [] : state.State.Entries);
}
