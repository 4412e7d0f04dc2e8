using ContactGrains.Protos.V1;

namespace ContactGrains.LoadTest;

/// <summary>What one conversation's transcript shows against the messages its customer sent.</summary>
internal sealed record TranscriptFindings(int Missing, int Duplicated, int Unanswered, string? SequenceProblem)
{
    public bool Clean => Missing == 0 && Duplicated == 0 && Unanswered == 0 && SequenceProblem is null;
}

/// <summary>The failover command's judgements, pure: transcripts against what was sent, stalls from ack times.</summary>
internal static class FailoverChecks
{
    /// <summary>The share of the rate before the kill that counts as recovered throughput.</summary>
    public const double RecoveredShare = 0.8;

    /// <summary>
    /// Each of <paramref name="sentIds"/> must be in the transcript exactly once as a customer message,
    /// each customer message directly followed by a bot answer, and the sequences must run 1, 2, 3… with no gap.
    /// </summary>
    public static TranscriptFindings Check(IReadOnlyList<TimelineEntry> entries, IEnumerable<string> sentIds)
    {
        var stored = new Dictionary<string, int>(StringComparer.Ordinal);
        var unanswered = 0;
        string? sequenceProblem = null;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Sequence != (ulong)i + 1 && sequenceProblem is null)
            {
                sequenceProblem = $"entry {i + 1} has sequence {entries[i].Sequence}";
            }

            if (entries[i].Message is { Sender: SenderKind.Customer } customer)
            {
                stored[customer.AdapterMessageId] = stored.GetValueOrDefault(customer.AdapterMessageId) + 1;
                if (i + 1 >= entries.Count || entries[i + 1].Message is not { Sender: SenderKind.Bot })
                {
                    unanswered++;
                }
            }
        }

        var missing = 0;
        var duplicated = 0;
        foreach (var id in sentIds)
        {
            var count = stored.GetValueOrDefault(id);
            missing += count == 0 ? 1 : 0;
            duplicated += Math.Max(0, count - 1);
        }

        return new TranscriptFindings(missing, duplicated, unanswered, sequenceProblem);
    }

    /// <summary>
    /// The longest wait of one conversation across the kill: the largest gap between two consecutive
    /// acks of the same conversation (each list in time order) such that the kill falls between them.
    /// Zero when no conversation had acks on both sides of the kill.
    /// </summary>
    public static TimeSpan LongestStall(IEnumerable<IReadOnlyList<TimeSpan>> conversations, TimeSpan kill)
    {
        var longest = TimeSpan.Zero;
        foreach (var acks in conversations)
        {
            for (var i = 1; i < acks.Count; i++)
            {
                if (acks[i - 1] <= kill && kill < acks[i] && acks[i] - acks[i - 1] > longest)
                {
                    longest = acks[i] - acks[i - 1];
                }
            }
        }

        return longest;
    }

    /// <summary>
    /// How long after the kill the last of the conversations still going got its next ack: the
    /// largest time from the kill to a conversation's first ack after it. Zero when none was acknowledged after the kill.
    /// </summary>
    public static TimeSpan AllMovingAgain(IEnumerable<IReadOnlyList<TimeSpan>> conversations, TimeSpan kill)
    {
        var latest = TimeSpan.Zero;
        foreach (var acks in conversations)
        {
            if (acks.FirstOrDefault(a => a > kill) is var next && next > kill && next - kill > latest)
            {
                latest = next - kill;
            }
        }

        return latest;
    }

    /// <summary>
    /// How long after the kill throughput recovered: until the first ack that starts a
    /// <paramref name="window"/> holding at least <see cref="RecoveredShare"/> of the acks the same time
    /// held on average before the kill (from <paramref name="start"/>), or every ack still to come when
    /// fewer remained. Null if that never happened, or if there was no ack before the kill.
    /// </summary>
    /// <remarks>
    /// Four fifths, not half: with one silo of three killed, the conversations on the others keep about
    /// two thirds of the rate, which is not recovered yet.
    /// </remarks>
    public static TimeSpan? Recovery(IReadOnlyList<TimeSpan> acks, TimeSpan start, TimeSpan kill, TimeSpan window)
    {
        var sorted = acks.Order().ToArray();
        var before = sorted.Count(a => a < kill);
        if (before == 0 || kill <= start || before == sorted.Length)
        {
            return null;
        }

        var needed = Math.Min(Math.Max(1, before * (window / (kill - start)) * RecoveredShare), sorted.Length - before);
        var end = before;
        for (var i = before; i < sorted.Length; i++)
        {
            end = Math.Max(end, i);
            while (end < sorted.Length && sorted[end] < sorted[i] + window)
            {
                end++;
            }

            if (end - i >= needed)
            {
                return sorted[i] - kill;
            }
        }

        return null;
    }
}
