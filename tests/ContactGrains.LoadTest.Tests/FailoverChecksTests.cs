using ContactGrains.Protos.V1;

namespace ContactGrains.LoadTest.Tests;

public class FailoverChecksTests
{
    [Fact]
    public void A_whole_transcript_is_clean()
    {
        var findings = FailoverChecks.Check(Transcript(Started(), Customer("a"), Bot(), Customer("b"), Bot()), ["a", "b"]);

        Assert.Equal(new TranscriptFindings(0, 0, 0, null), findings);
        Assert.True(findings.Clean);
    }

    [Fact]
    public void An_acknowledged_message_absent_from_the_transcript_is_missing()
    {
        var findings = FailoverChecks.Check(Transcript(Started(), Customer("a"), Bot()), ["a", "b"]);

        Assert.Equal(new TranscriptFindings(1, 0, 0, null), findings);
    }

    [Fact]
    public void A_message_stored_twice_is_duplicated_once()
    {
        var findings = FailoverChecks.Check(Transcript(Started(), Customer("a"), Bot(), Customer("a"), Bot()), ["a"]);

        Assert.Equal(new TranscriptFindings(0, 1, 0, null), findings);
    }

    [Fact]
    public void A_customer_message_not_followed_by_a_bot_answer_is_unanswered()
    {
        var findings = FailoverChecks.Check(Transcript(Started(), Customer("a"), Customer("b"), Bot(), Customer("c")), ["a", "b", "c"]);

        Assert.Equal(2, findings.Unanswered);
    }

    [Fact]
    public void A_gap_in_the_sequences_is_named()
    {
        var entries = Transcript(Started(), Customer("a"), Bot());
        entries[2].Sequence = 4;

        Assert.Equal("entry 3 has sequence 4", FailoverChecks.Check(entries, ["a"]).SequenceProblem);
    }

    [Fact]
    public void The_longest_stall_is_the_largest_gap_between_acks_of_one_conversation_that_spans_the_kill()
    {
        List<IReadOnlyList<TimeSpan>> conversations =
        [
            Ms(100, 200, 1900, 2000), // waiting at the kill (1000 ms) from 200 to 1900: 1700 ms
            Ms(100, 900, 1200),       // 900 to 1200: 300 ms
            Ms(1500, 3500),           // no ack before the kill: its gap does not span it
            Ms(100, 300, 500),        // done before the kill
        ];

        Assert.Equal(TimeSpan.FromMilliseconds(1700), FailoverChecks.LongestStall(conversations, TimeSpan.FromMilliseconds(1000)));
        Assert.Equal(TimeSpan.FromMilliseconds(900), FailoverChecks.AllMovingAgain(conversations, TimeSpan.FromMilliseconds(1000)));
    }

    [Fact]
    public void Without_acks_across_the_kill_there_is_no_stall()
    {
        Assert.Equal(TimeSpan.Zero, FailoverChecks.LongestStall([Ms(100, 200)], TimeSpan.FromMilliseconds(500)));
        Assert.Equal(TimeSpan.Zero, FailoverChecks.AllMovingAgain([Ms(100, 200)], TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public void Throughput_recovers_at_the_first_ack_that_starts_a_window_with_four_fifths_of_the_earlier_rate()
    {
        // 10 acks a second before the kill at 1 s; a 500 ms window then needs 4 acks.
        var before = Enumerable.Range(0, 10).Select(i => i * 100);
        var after = new[] { 1800, 2300, 2400, 2500, 2600, 3200, 3300, 3400, 3500 };

        var recovery = FailoverChecks.Recovery([.. Ms([.. before, .. after])], TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));

        Assert.Equal(TimeSpan.FromMilliseconds(1300), recovery);
    }

    [Fact]
    public void Throughput_counts_as_recovered_when_every_remaining_ack_fits_one_window()
    {
        var recovery = FailoverChecks.Recovery(Ms(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 3000), TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));

        Assert.Equal(TimeSpan.FromMilliseconds(2000), recovery);
    }

    [Fact]
    public void Recovery_is_unknown_without_acks_on_both_sides_of_the_kill()
    {
        Assert.Null(FailoverChecks.Recovery(Ms(1500, 1600), TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500)));
        Assert.Null(FailoverChecks.Recovery(Ms(100, 200), TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500)));
    }

    private static List<TimeSpan> Ms(params int[] milliseconds) => [.. milliseconds.Select(m => TimeSpan.FromMilliseconds(m))];

    private static List<TimelineEntry> Transcript(params TimelineEntry[] entries)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i].Sequence = (ulong)i + 1;
        }

        return [.. entries];
    }

    private static TimelineEntry Started() => new() { Status = new StatusEvent { Kind = StatusKind.Started } };

    private static TimelineEntry Customer(string id) => new() { Message = new ChatMessage { Sender = SenderKind.Customer, AdapterMessageId = id, Text = id } };

    private static TimelineEntry Bot() => new() { Message = new ChatMessage { Sender = SenderKind.Bot, Text = "answer" } };
}
