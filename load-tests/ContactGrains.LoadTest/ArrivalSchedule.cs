namespace ContactGrains.LoadTest;

/// <summary>
/// The open loop's timetable. Message k (from 0) is due k / rate seconds after the start, whatever
/// became of the earlier ones. <see cref="OpenConversations"/> conversations are open at once, each
/// in a slot: round by round every slot asks its conversation's next question, and once a
/// conversation has asked its <see cref="Turns"/> questions a new one takes its slot, so new
/// conversations keep arriving at rate / turns.
/// </summary>
internal sealed class ArrivalSchedule
{
    public ArrivalSchedule(double messagesPerSecond, int openConversations, int turns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messagesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(openConversations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(turns);
        MessagesPerSecond = messagesPerSecond;
        OpenConversations = openConversations;
        Turns = turns;
    }

    public double MessagesPerSecond { get; }

    public int OpenConversations { get; }

    public int Turns { get; }

    /// <summary>When message <paramref name="message"/> is due, from the start (rounded to 100 ns ticks).</summary>
    public TimeSpan DueAt(long message) =>
        TimeSpan.FromTicks((long)Math.Round(message * (TimeSpan.TicksPerSecond / MessagesPerSecond)));

    /// <summary>How many messages are due <paramref name="elapsed"/> after the start (message 0 is due at once).</summary>
    public long DueBy(TimeSpan elapsed)
    {
        if (elapsed < TimeSpan.Zero)
        {
            return 0;
        }

        // The estimate may be one off at exact boundaries (floating point); DueAt is the reference.
        var due = (long)Math.Floor(elapsed.TotalSeconds * MessagesPerSecond) + 1;
        while (DueAt(due) <= elapsed)
        {
            due++;
        }

        while (due > 0 && DueAt(due - 1) > elapsed)
        {
            due--;
        }

        return due;
    }

    /// <summary>The conversation (a number from 0) and turn (from 0) message <paramref name="message"/> belongs to.</summary>
    public (long Conversation, int Turn) MessageAt(long message)
    {
        var slot = message % OpenConversations;
        var round = message / OpenConversations;
        return (((round / Turns) * OpenConversations) + slot, (int)(round % Turns));
    }

    /// <summary>The slot of message <paramref name="message"/>: one conversation at a time uses it.</summary>
    public int SlotOf(long message) => (int)(message % OpenConversations);
}

/// <summary>
/// One open-loop message's three moments, from the run's start: when the schedule meant to send it,
/// when it went out, and when its ack came back.
/// </summary>
internal readonly record struct MessageTiming(TimeSpan Intended, TimeSpan Sent, TimeSpan Acked)
{
    /// <summary>
    /// From the intended send time: includes the wait behind a slow earlier turn, as a customer on the
    /// schedule would see it. This is the coordinated-omission correction.
    /// </summary>
    public TimeSpan Corrected => Acked - Intended;

    /// <summary>From the actual send: what the server took once it had the message.</summary>
    public TimeSpan Uncorrected => Acked - Sent;

    /// <summary>A conversation's turn goes out at its intended time, or when the previous turn's ack came if that is later.</summary>
    public static TimeSpan SendTime(TimeSpan intended, TimeSpan? previousAcked) =>
        previousAcked is { } acked && acked > intended ? acked : intended;

    /// <summary>
    /// One conversation's turns, in order, against a server that acks a message sent at time t at
    /// <paramref name="ackFor"/>(t): the open loop's rule without the network, for tables.
    /// </summary>
    public static IReadOnlyList<MessageTiming> Replay(IEnumerable<TimeSpan> intendedTimes, Func<TimeSpan, TimeSpan> ackFor)
    {
        var timings = new List<MessageTiming>();
        TimeSpan? previousAcked = null;
        foreach (var intended in intendedTimes)
        {
            var sent = SendTime(intended, previousAcked);
            var acked = ackFor(sent);
            timings.Add(new MessageTiming(intended, sent, acked));
            previousAcked = acked;
        }

        return timings;
    }
}
