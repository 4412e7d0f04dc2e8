using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Automation;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Supervision;

/// <summary>Which supervised conversations are flagged for review, and where their reviews live.</summary>
public static class Reviews
{
    /// <summary>
    /// Whether a conversation of a supervised intent is flagged: the same answer for the same
    /// conversation on every silo (a stable hash, not a dice roll), about <paramref name="share"/> of them.
    /// </summary>
    public static bool IsFlagged(string conversationId, double share) =>
        share >= 1 || (share > 0 && StableHash.Of(conversationId) % 10_000 < (ulong)Math.Round(share * 10_000));

    public static int PartitionOf(string conversationId) => (int)(StableHash.Of(conversationId) % IReviewsGrain.Partitions);
}

/// <summary>
/// One stored partition of the review list. Waiting reviews are kept until decided (at most
/// <see cref="MaxWaiting"/>: beyond, the oldest are dropped, logged); decided ones for a week, so the
/// console can show what was recently judged.
/// </summary>
public sealed partial class ReviewsGrain(
    [PersistentState("reviews", StorageNames.Default)] IPersistentState<ReviewsState> state,
    OutcomeRecorder outcomes,
    TimeProvider time,
    ILogger<ReviewsGrain> logger) : Grain, IReviewsGrain
{
    public const int MaxWaiting = 5_000;
    private static readonly TimeSpan DecidedKept = TimeSpan.FromDays(7);

    private List<ReviewItem> Items => state.State.Items;

    public async Task Flag(ReviewItem review)
    {
        if (Items.Exists(r => r.ConversationId == review.ConversationId))
        {
            return;
        }

        await state.CommitAsync(this, logger, () =>
        {
            Items.Add(review);
            var now = time.GetUtcNow();
            Items.RemoveAll(r => r.ReviewedAt is { } at && now - at > DecidedKept);
            var waiting = Items.Count(r => r.Verdict is null);
            if (waiting > MaxWaiting)
            {
                var dropped = Items.Where(r => r.Verdict is null).OrderBy(r => r.ClosedAt).Take(waiting - MaxWaiting).ToHashSet();
                Items.RemoveAll(dropped.Contains);
                LogDropped(this.GetPrimaryKeyLong(), dropped.Count);
            }
        });
    }

    public Task<ImmutableArray<ReviewItem>> List(bool includeDecided, int maxResults) =>
        Task.FromResult(Items.Where(r => includeDecided || r.Verdict is null).OrderBy(r => r.ClosedAt)
            .Take(Math.Max(0, maxResults)).ToImmutableArray());

    public async Task<ReviewItem> Decide(string conversationId, ReviewVerdict verdict, string reviewedBy, string note)
    {
        var index = Items.FindIndex(r => r.ConversationId == conversationId);
        if (index < 0)
        {
            throw new RequestRejectedException(RejectionCode.NotFound, $"Conversation '{conversationId}' is not waiting for a review.");
        }

        var review = Items[index];
        if (review.Verdict is { } given)
        {
            return given == verdict ? review
                : throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                    $"Conversation '{conversationId}' was already reviewed ({given.ToString().ToLowerInvariant()} by {review.ReviewedBy}).");
        }

        var now = time.GetUtcNow();
        var decided = review with { Verdict = verdict, ReviewedBy = reviewedBy, Note = note, ReviewedAt = now };
        await state.CommitAsync(this, logger, () => Items[index] = decided);

        // Counted on the day the conversation ended, with the bot's other figures for it.
        outcomes.Record(review.Intent, new DatedOutcome(DateOnly.FromDateTime(review.ClosedAt.UtcDateTime),
            new ConversationOutcome(ResolvedBy.Bot, null, false, false), Review: verdict));
        return decided;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Review partition {Partition}: {Count} waiting review(s) dropped, the oldest, beyond the limit")]
    private partial void LogDropped(long partition, int count);
}

[GenerateSerializer, Alias("cg.ReviewsState")]
public sealed class ReviewsState
{
    [Id(0)] public List<ReviewItem> Items { get; set; } = [];
}
