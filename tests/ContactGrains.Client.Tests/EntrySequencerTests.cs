using ContactGrains.Protos.V1;
using CsCheck;

namespace ContactGrains.Client.Tests;

public sealed class EntrySequencerTests
{
    [Fact]
    public void In_order_entries_pass_straight_through()
    {
        var sequencer = new EntrySequencer(delivered: 0);
        var ready = new List<TimelineEntry>();
        foreach (var sequence in Entries.Range(1, 5))
        {
            Assert.False(sequencer.Accept(Entries.Message("c", sequence), ready));
        }

        Assert.Equal(Entries.Range(1, 5), ready.Select(e => e.Sequence));
    }

    [Fact]
    public void Duplicates_of_released_entries_are_dropped()
    {
        var sequencer = new EntrySequencer(delivered: 3);
        var ready = new List<TimelineEntry>();
        Assert.False(sequencer.Accept(Entries.Message("c", 2), ready));
        Assert.False(sequencer.Accept(Entries.Message("c", 3), ready));
        Assert.Empty(ready);
        Assert.Equal(3ul, sequencer.Delivered);
    }

    [Fact]
    public void An_early_entry_waits_and_reports_the_gap_until_it_is_filled()
    {
        var sequencer = new EntrySequencer(delivered: 1);
        var ready = new List<TimelineEntry>();
        Assert.True(sequencer.Accept(Entries.Message("c", 4), ready));
        Assert.True(sequencer.Accept(Entries.Message("c", 3), ready));
        Assert.Empty(ready);
        Assert.Equal(1ul, sequencer.Delivered); // resume after 1

        Assert.False(sequencer.Accept(Entries.Message("c", 2), ready));
        Assert.Equal([2ul, 3, 4], ready.Select(e => e.Sequence));
        Assert.Equal(0, sequencer.Held);
    }

    [Fact]
    public void Held_entries_are_bounded_dropping_the_furthest()
    {
        var sequencer = new EntrySequencer(delivered: 0, maxHeld: 3);
        var ready = new List<TimelineEntry>();
        foreach (var sequence in new ulong[] { 5, 2, 9, 3, 7 })
        {
            sequencer.Accept(Entries.Message("c", sequence), ready);
        }

        Assert.Equal(3, sequencer.Held);
        sequencer.Accept(Entries.Message("c", 1), ready);
        Assert.Equal([1ul, 2, 3], ready.Select(e => e.Sequence)); // 5 kept but 4 missing; 7 and 9 dropped
    }

    [Fact]
    public void Rewind_forgets_what_the_reader_could_not_take()
    {
        var sequencer = new EntrySequencer(delivered: 0);
        var ready = new List<TimelineEntry>();
        foreach (var sequence in Entries.Range(1, 4))
        {
            sequencer.Accept(Entries.Message("c", sequence), ready);
        }

        sequencer.Rewind(3);
        Assert.Equal(2ul, sequencer.Delivered);
        ready.Clear();
        sequencer.Accept(Entries.Message("c", 3), ready);
        Assert.Equal([3ul], ready.Select(e => e.Sequence));
    }

    /// <summary>
    /// The protocol as the connection runs it: entries arrive in any order, repeated or lost; whenever
    /// the sequencer reports a gap, the server (eventually) replays everything after what was
    /// delivered. Whatever the schedule, the reader gets 1..N once each, in order.
    /// </summary>
    [Fact]
    public void Any_arrival_order_with_replays_on_gaps_releases_each_entry_once_in_order()
    {
        var schedules =
            from count in Gen.Int[1, 60]
            from arrivals in Gen.Int[1, count].Array[0, count * 3]
            from maxHeld in Gen.Int[1, 16]
            select (Count: count, Arrivals: arrivals, MaxHeld: maxHeld);

        schedules.Sample(
            schedule =>
            {
                var sequencer = new EntrySequencer(0, schedule.MaxHeld);
                var released = new List<TimelineEntry>();
                foreach (var sequence in schedule.Arrivals)
                {
                    // Whenever something waits, the caller is told to resume: nothing can wait for ever.
                    var gap = sequencer.Accept(Entries.Message("c", (ulong)sequence), released);
                    Assert.Equal(sequencer.Held > 0, gap);
                }

                // Resumes: the server replays everything after the delivered point, in order (live entries may still overtake it).
                for (var replays = 0; sequencer.Delivered < (ulong)schedule.Count; replays++)
                {
                    Assert.True(replays < 3, "a replay after the delivered point must complete the conversation");
                    foreach (var sequence in Entries.Range(sequencer.Delivered + 1, (ulong)schedule.Count))
                    {
                        sequencer.Accept(Entries.Message("c", sequence), released);
                    }
                }

                Assert.Equal(Entries.Range(1, (ulong)schedule.Count), released.Select(e => e.Sequence));
                Assert.Equal(0, sequencer.Held);
            },
            iter: 2000);
    }
}
