namespace ContactGrains.LoadTest.Tests;

public class ArrivalScheduleTests
{
    [Theory]
    [InlineData(4.0, 0, 0)]
    [InlineData(4.0, 1, 2_500_000)]
    [InlineData(4.0, 3, 7_500_000)]
    [InlineData(4.0, 400, 1_000_000_000)]
    [InlineData(3.0, 1, 3_333_333)] // 333.3333 ms, to the nearest 100 ns tick
    [InlineData(3.0, 2, 6_666_667)]
    [InlineData(1000.0, 1, 10_000)]
    [InlineData(100_000.0, 7, 700)]
    public void Message_k_is_due_k_over_rate_seconds_after_the_start(double rate, long message, long expectedTicks)
    {
        Assert.Equal(TimeSpan.FromTicks(expectedTicks), new ArrivalSchedule(rate, 1, 1).DueAt(message));
    }

    [Theory]
    [InlineData(4.0, -1, 0)]
    [InlineData(4.0, 0, 1)] // message 0 at once
    [InlineData(4.0, 2_499_999, 1)]
    [InlineData(4.0, 2_500_000, 2)]
    [InlineData(4.0, 10_000_000, 5)]
    [InlineData(3.0, 3_333_332, 1)]
    [InlineData(3.0, 3_333_333, 2)]
    [InlineData(10.0, 3_000_000, 4)]
    [InlineData(100.0, 2_900_000, 30)] // 0.29 s × 100 is 28.999… in floating point
    public void Messages_due_by_a_time_agree_with_their_due_times(double rate, long elapsedTicks, long expected)
    {
        var schedule = new ArrivalSchedule(rate, 1, 1);

        var due = schedule.DueBy(TimeSpan.FromTicks(elapsedTicks));

        Assert.Equal(expected, due);
        Assert.True(due == 0 || schedule.DueAt(due - 1) <= TimeSpan.FromTicks(elapsedTicks));
        Assert.True(schedule.DueAt(due) > TimeSpan.FromTicks(elapsedTicks));
    }

    [Theory]
    [InlineData(3, 2, new long[] { 0, 1, 2, 0, 1, 2, 3, 4, 5 }, new[] { 0, 0, 0, 1, 1, 1, 0, 0, 0 })]
    [InlineData(1, 3, new long[] { 0, 0, 0, 1, 1, 1 }, new[] { 0, 1, 2, 0, 1, 2 })]
    [InlineData(2, 1, new long[] { 0, 1, 2, 3, 4 }, new[] { 0, 0, 0, 0, 0 })]
    public void Open_conversations_take_turns_and_new_ones_take_the_finished_ones_slots(int open, int turns, long[] conversations, int[] expectedTurns)
    {
        var schedule = new ArrivalSchedule(10, open, turns);

        var messages = Enumerable.Range(0, conversations.Length).Select(k => schedule.MessageAt(k)).ToList();

        Assert.Equal(conversations.Zip(expectedTurns).ToList(), messages.Select(m => (m.Conversation, m.Turn)).ToList());
    }

    [Fact]
    public void With_every_conversation_open_each_asks_each_turn_once_in_order()
    {
        // channel --rate: conversations × turns messages, all conversations open.
        var schedule = new ArrivalSchedule(10, 7, 3);

        var messages = Enumerable.Range(0, 21).Select(k => schedule.MessageAt(k)).ToList();

        Assert.Equal(
            Enumerable.Range(0, 7).SelectMany(c => Enumerable.Range(0, 3).Select(t => ((long)c, t))).Order().ToList(),
            messages.Order().ToList());
        Assert.All(messages.GroupBy(m => m.Conversation), g => Assert.Equal([0, 1, 2], g.Select(m => m.Turn)));
    }

    [Theory]
    [InlineData(0.0, 1, 1)]
    [InlineData(1.0, 0, 1)]
    [InlineData(1.0, 1, 0)]
    [InlineData(-1.0, 1, 1)]
    public void A_schedule_needs_a_positive_rate_conversations_and_turns(double rate, int open, int turns)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrivalSchedule(rate, open, turns));
    }
}
