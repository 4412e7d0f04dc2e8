using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using ContactGrains.Contracts;
using ContactGrains.Grains.Delivery;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The feed's promise under every arrival order the example tests cannot enumerate: per conversation,
/// exactly the owed entries, in order, no gap, no duplicate, however responses and pushes are
/// reordered, repeated or lost on the way.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ConversationFeedPropertyTests(ClusterFixture fixture)
{
    private const int Iterations = 200;

    // Conversations are read-only to a feed, so one stored conversation per (length, copy) serves
    // every iteration: the timelines are built once instead of once per generated schedule.
    private static readonly ConditionalWeakTable<ClusterFixture, StoredConversations> Stored = [];

    private StoredConversations Conversations => Stored.GetValue(fixture, f => new StoredConversations(f.SiloGrainFactory(0)));

    [Fact]
    public async Task Each_conversation_is_emitted_once_in_order_whatever_the_arrival_order()
    {
        await FeedSchedules.Generate(withRestart: false).SampleAsync(
            async schedule =>
            {
                var (conversations, emitted) = await RunAsync(schedule);
                foreach (var (index, conversation) in conversations.Index())
                {
                    var start = schedule.Conversations[index].StartAfter;
                    AssertEmitted(schedule, index, conversation, emitted[index], Range(start + 1, conversation.Length));
                }
            },
            iter: Iterations,
            print: schedule => schedule.ToString());
    }

    [Fact]
    public async Task Restart_in_the_middle_delivers_exactly_what_follows_it()
    {
        await FeedSchedules.Generate(withRestart: true).SampleAsync(
            async schedule =>
            {
                var (conversations, emitted) = await RunAsync(schedule);
                foreach (var (index, conversation) in conversations.Index())
                {
                    AssertRestarted(schedule, index, conversation, emitted[index]);
                }
            },
            iter: Iterations,
            print: schedule => schedule.ToString());
    }

    private async Task<(StoredConversation[] Conversations, IReadOnlyList<TimelineEntry>[] Emitted)> RunAsync(FeedSchedule schedule)
    {
        var grains = fixture.SiloGrainFactory(0);
        var conversations = await Conversations.ForAsync(schedule.Conversations.Select(c => c.Length));
        var collector = new EntryCollector();
        await using var feed = schedule.MaxQueuedEntries is { } max
            ? new ConversationFeed(grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance, max)
            : new ConversationFeed(grains, TestData.Channel, collector.WriteAsync, NullLogger.Instance);
        IConversationObserver observer = feed;

        foreach (var delivery in schedule.Deliveries)
        {
            if (delivery.YieldFirst)
            {
                // Lets the pump run between two arrivals, so it sees them one by one as well as in bulk.
                await Task.Yield();
            }

            var conversation = conversations[delivery.Conversation];
            var entries = delivery.Carried.Select(sequence => conversation.Timeline[(int)sequence - 1]).ToImmutableArray();
            switch (delivery.Route)
            {
                case Route.Post:
                    feed.Post(conversation.Id, delivery.StartAfter, entries, delivery.KnownLast);
                    break;
                case Route.Restart:
                    feed.Restart(conversation.Id, delivery.StartAfter, entries, delivery.KnownLast);
                    break;
                case Route.Push:
                    await observer.OnEntries(conversation.Id, entries);
                    break;
            }
        }

        await feed.DrainAsync();
        return (conversations, [.. conversations.Select(c => collector.For(c.Id))]);
    }

    /// <summary>Without a restart: exactly what the connection is owed, once, in order, as stored.</summary>
    private static void AssertEmitted(
        FeedSchedule schedule, int index, StoredConversation conversation, IReadOnlyList<TimelineEntry> emitted, IEnumerable<long> expected)
    {
        var sequences = emitted.Select(e => e.Sequence).ToList();
        Assert.True(
            sequences.SequenceEqual(expected),
            $"c{index} (N={conversation.Length}, start after {schedule.Conversations[index].StartAfter}): emitted [{Show(sequences)}], expected [{Show(expected)}]");
        AssertAsStored(index, conversation, emitted);
    }

    /// <summary>
    /// With a restart after r: what was emitted before it (a run s+1..d, empty if no response started
    /// the conversation first) followed by exactly r+1..N. The feed must have caught up with
    /// everything it was told before the restart, so d is at least the highest sequence it knew of.
    /// </summary>
    private static void AssertRestarted(FeedSchedule schedule, int index, StoredConversation conversation, IReadOnlyList<TimelineEntry> emitted)
    {
        var plan = schedule.Conversations[index];
        var restartAfter = plan.RestartAfter!.Value;
        var sequences = emitted.Select(e => e.Sequence).ToList();
        var describe = $"c{index} (N={conversation.Length}, start after {plan.StartAfter}, restart after {restartAfter}): emitted [{Show(sequences)}]";

        var tailLength = conversation.Length - restartAfter;
        Assert.True(sequences.Count >= tailLength, $"{describe}, shorter than the {tailLength} entries after the restart");
        var before = sequences[..^(int)tailLength];
        var after = sequences[^(int)tailLength..];
        Assert.True(after.SequenceEqual(Range(restartAfter + 1, conversation.Length)), $"{describe}: does not end with {restartAfter + 1}..{conversation.Length}");

        var (started, knownBefore) = schedule.KnownBeforeRestart(index);
        if (!started)
        {
            Assert.True(before.Count == 0, $"{describe}: emitted [{Show(before)}] before the restart although no response had said where to start");
        }
        else
        {
            var caughtUp = Math.Max(plan.StartAfter, knownBefore);
            var delivered = plan.StartAfter + before.Count;
            Assert.True(
                before.SequenceEqual(Range(plan.StartAfter + 1, delivered)) && delivered >= caughtUp && delivered <= conversation.Length,
                $"{describe}: before the restart expected {plan.StartAfter + 1}..d with {caughtUp} <= d <= {conversation.Length}, got [{Show(before)}]");
        }

        AssertAsStored(index, conversation, emitted);
    }

    private static void AssertAsStored(int index, StoredConversation conversation, IReadOnlyList<TimelineEntry> emitted)
    {
        foreach (var entry in emitted)
        {
            Assert.True(entry == conversation.Timeline[(int)entry.Sequence - 1], $"c{index}: entry {entry.Sequence} differs from the stored one: {entry}");
        }
    }

    private static IEnumerable<long> Range(long first, long last) =>
        first > last ? [] : Enumerable.Range((int)first, (int)(last - first + 1)).Select(s => (long)s);

    private static string Show(IEnumerable<long> sequences) => string.Join(" ", sequences);
}

/// <summary>How one delivery reaches the feed.</summary>
internal enum Route
{
    /// <summary>Entries returned by a grain call on this connection (<see cref="ConversationFeed.Post"/>).</summary>
    Post,

    /// <summary>Entries pushed by the grain (<see cref="IConversationObserver.OnEntries"/>).</summary>
    Push,

    /// <summary>The adapter resumed (<see cref="ConversationFeed.Restart"/>).</summary>
    Restart,
}

/// <summary>
/// One call on the feed: the entries <see cref="From"/>..<see cref="To"/> of one conversation, less
/// those <see cref="Lost"/> on the way (read back only by the feed itself).
/// </summary>
internal sealed record FeedDelivery(int Conversation, Route Route, long From, long To, ImmutableArray<long> Lost)
{
    /// <summary>For a response or a resume: where the connection starts (responses use it only if first).</summary>
    public long StartAfter { get; init; }

    public bool YieldFirst { get; init; }

    public IEnumerable<long> Carried
    {
        get
        {
            for (var sequence = From; sequence <= To; sequence++)
            {
                if (!Lost.Contains(sequence))
                {
                    yield return sequence;
                }
            }
        }
    }

    /// <summary>A response or resume states the conversation's last sequence; a push only carries entries.</summary>
    public long KnownLast => Route == Route.Push ? Carried.LastOrDefault() : To;

    /// <summary>A push whose entries were all lost never arrives.</summary>
    public bool Arrives => Route != Route.Push || Carried.Any();

    public override string ToString()
    {
        var route = Route switch
        {
            Route.Post => $"Post(after {StartAfter}, known {KnownLast})",
            Route.Restart => $"Restart(after {StartAfter}, known {KnownLast})",
            _ => "Push",
        };
        var lost = Lost.IsEmpty ? "" : $" lost [{string.Join(" ", Lost)}]";
        var range = From > To ? "nothing" : $"{From}..{To}";
        return $"{(YieldFirst ? "~ " : "")}c{Conversation} {route} {range}{lost}";
    }
}

/// <summary>A conversation of <see cref="Length"/> stored entries, owed to the connection after <see cref="StartAfter"/>.</summary>
internal sealed record ConversationPlan(int Length, long StartAfter, long? RestartAfter);

/// <summary>What happens to one feed: its conversations and every call on it, in arrival order.</summary>
internal sealed record FeedSchedule(ImmutableArray<ConversationPlan> Conversations, int? MaxQueuedEntries, ImmutableArray<FeedDelivery> Deliveries)
{
    /// <summary>
    /// Before conversation <paramref name="index"/>'s restart arrives: whether a response had started
    /// it, and the highest sequence any arrived call had told the feed about.
    /// </summary>
    public (bool Started, long KnownLast) KnownBeforeRestart(int index)
    {
        var started = false;
        var known = 0L;
        foreach (var delivery in Deliveries.Where(d => d.Conversation == index && d.Arrives))
        {
            if (delivery.Route == Route.Restart)
            {
                break;
            }

            started |= delivery.Route == Route.Post;
            known = Math.Max(known, delivery.KnownLast);
        }

        return (started, known);
    }

    public override string ToString()
    {
        var conversations = Conversations.Select((c, i) =>
            $"c{i}: N={c.Length}, start after {c.StartAfter}" + (c.RestartAfter is { } r ? $", restart after {r}" : ""));
        var buffer = MaxQueuedEntries is { } max ? $"feed buffer {max} entries" : "default feed buffer";
        return string.Join(Environment.NewLine, [.. conversations, buffer, "arrivals (~ = pump may run first):", .. Deliveries.Select(d => "  " + d)]);
    }
}

/// <summary>Generates feed schedules; the raw shapes below shrink well, the schedule is derived from them.</summary>
internal static class FeedSchedules
{
    private const int MaxLength = 60;
    private const int MaxRun = 8;

    // One copy of a run of entries: a response or a push, with each entry possibly lost.
    private sealed record CopyShape(bool Push, bool[] Lost);

    // Consecutive entries produced together (one grain call's worth), delivered 1-3 times.
    private sealed record RunShape(int Size, CopyShape[] Copies);

    private sealed record ConversationShape(int Length, int StartAfter, RunShape[] Runs, int RestartAfter, bool[] RestartLost);

    private static readonly Gen<bool> Lost = Gen.Frequency((4, false), (1, true));

    private static readonly Gen<CopyShape> Copy = Gen.Select(Gen.Bool, Lost.Array[MaxRun], (push, lost) => new CopyShape(push, lost));

    private static readonly Gen<RunShape> Run = Gen.Select(Gen.Int[1, MaxRun], Copy.Array[1, 3], (size, copies) => new RunShape(size, copies));

    private static readonly Gen<ConversationShape> Conversation = Gen.Select(
        Gen.Int[1, MaxLength],
        Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[0, MaxLength - 1])),
        Run.Array[MaxLength],
        Gen.Int[0, MaxLength],
        Lost.Array[MaxLength],
        (length, start, runs, restart, restartLost) => new ConversationShape(length, Math.Min(start, length - 1), runs, Math.Min(restart, length), restartLost));

    // Mostly the default buffer; sometimes one so small that the feed drops entries itself.
    private static readonly Gen<int?> MaxQueued = Gen.Frequency((3, Gen.Const((int?)null)), (1, Gen.Int[1, 10].Select(n => (int?)n)));

    public static Gen<FeedSchedule> Generate(bool withRestart) =>
        Gen.Select(Conversation.Array[1, 5], MaxQueued).SelectMany((shapes, maxQueued) =>
        {
            var plans = shapes.Select(s => new ConversationPlan(s.Length, s.StartAfter, withRestart ? s.RestartAfter : null)).ToImmutableArray();
            var deliveries = shapes.SelectMany((shape, index) => Deliveries(index, shape, withRestart)).ToArray();
            return Gen.Select(Gen.Shuffle(deliveries), Gen.Bool.Array[deliveries.Length], (order, yields) =>
                new FeedSchedule(plans, maxQueued, StartFirstResponses(plans, order, yields)));
        });

    private static List<FeedDelivery> Deliveries(int index, ConversationShape shape, bool withRestart)
    {
        var deliveries = new List<FeedDelivery>();
        var runs = new List<List<FeedDelivery>>();
        var from = 1;
        foreach (var run in shape.Runs)
        {
            if (from > shape.Length)
            {
                break;
            }

            var to = Math.Min(shape.Length, from + run.Size - 1);
            var copies = run.Copies.Select(copy => new FeedDelivery(
                index,
                copy.Push ? Route.Push : Route.Post,
                from,
                to,
                [.. Enumerable.Range(from, to - from + 1).Where(s => copy.Lost[s - from]).Select(s => (long)s)])
            {
                StartAfter = from - 1,
            }).ToList();
            runs.Add(copies);
            from = to + 1;
        }

        // Without any response the feed never learns where the connection starts: make one.
        if (!runs.SelectMany(r => r).Any(d => d.Route == Route.Post))
        {
            runs[0][0] = runs[0][0] with { Route = Route.Post };
        }

        // The feed must hear of the last entry somehow: from a response saying it exists, or a push carrying it.
        var last = runs[^1];
        if (!last.Any(d => d.Route == Route.Post || d.Carried.Contains(shape.Length)))
        {
            last[0] = last[0] with { Lost = last[0].Lost.Remove(shape.Length) };
        }

        deliveries.AddRange(runs.SelectMany(r => r));
        if (withRestart)
        {
            var after = shape.RestartAfter;
            deliveries.Add(new FeedDelivery(
                index,
                Route.Restart,
                after + 1,
                shape.Length,
                [.. Enumerable.Range(after + 1, shape.Length - after).Where(s => shape.RestartLost[s - after - 1]).Select(s => (long)s)])
            {
                StartAfter = after,
            });
        }

        return deliveries;
    }

    // Responses on one connection come back in order, so the first to arrive is the one that
    // started the conversation there: it carries the start. Later ones name their own first entry,
    // which the feed ignores once the conversation started.
    private static ImmutableArray<FeedDelivery> StartFirstResponses(ImmutableArray<ConversationPlan> plans, FeedDelivery[] order, bool[] yields)
    {
        var started = new bool[plans.Length];
        return [.. order.Select((delivery, i) =>
        {
            delivery = delivery with { YieldFirst = yields[i] };
            if (delivery.Route == Route.Post && !started[delivery.Conversation])
            {
                started[delivery.Conversation] = true;
                delivery = delivery with { StartAfter = plans[delivery.Conversation].StartAfter };
            }

            return delivery;
        })];
    }
}

/// <summary>A stored conversation with exactly <see cref="Length"/> timeline entries.</summary>
internal sealed record StoredConversation(string Id, ImmutableArray<TimelineEntry> Timeline)
{
    public long Length => Timeline.Length;
}

/// <summary>Stored conversations by length, built on first use: 1 + 2 × turns entries, plus one if closed.</summary>
internal sealed class StoredConversations(IGrainFactory grains)
{
    private readonly Dictionary<(long Length, int Copy), Lazy<Task<StoredConversation>>> _byLength = [];
    private readonly Lock _lock = new();

    /// <summary>One distinct conversation per requested length, in the same order.</summary>
    public async Task<StoredConversation[]> ForAsync(IEnumerable<int> lengths)
    {
        var copies = new Dictionary<int, int>();
        var tasks = lengths.Select(length =>
        {
            copies[length] = copies.GetValueOrDefault(length) + 1;
            return Get(length, copies[length]);
        }).ToList();
        return await Task.WhenAll(tasks);
    }

    private Task<StoredConversation> Get(int length, int copy)
    {
        Lazy<Task<StoredConversation>> lazy;
        lock (_lock)
        {
            if (!_byLength.TryGetValue((length, copy), out lazy!))
            {
                lazy = new Lazy<Task<StoredConversation>>(() => BuildAsync(length));
                _byLength[(length, copy)] = lazy;
            }
        }

        return lazy.Value;
    }

    private async Task<StoredConversation> BuildAsync(int length)
    {
        var thread = grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("feed-property")));
        var id = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), null))!.ConversationId;
        var conversation = grains.GetGrain<IConversationGrain>(id);
        for (var turn = 0; turn < (length - 1) / 2; turn++)
        {
            await conversation.ReceiveCustomerMessage(TestData.Message($"m{turn}", TestData.Questions[turn % TestData.Questions.Length].Text), null);
        }

        if (length % 2 == 0)
        {
            await conversation.Close(TestData.Channel, "closed-by-adapter", "done");
        }

        var page = await conversation.GetTimeline(TestData.Channel, 0, ConversationLimits.MaxPageSize);
        Assert.Equal(Enumerable.Range(1, length).Select(s => (long)s), page.Entries.Select(e => e.Sequence));
        return new StoredConversation(id, page.Entries);
    }
}
