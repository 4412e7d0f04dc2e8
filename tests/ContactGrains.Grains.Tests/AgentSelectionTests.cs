using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Routing;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The routing rules as spec tables: who is offered a waiting conversation, in which order, and in
/// which order waiting conversations are served. Each row names the rule it pins down.
/// </summary>
public sealed class AgentSelectionTests
{
    private const string Webchat = "webchat";
    private const string Sms = "sms";
    private const string Nobody = "nobody";

    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Spelled out (they are also the defaults) so that the tables read on their own.</summary>
    private static readonly RoutingOptions Options = new()
    {
        OfferTimeout = TimeSpan.FromSeconds(30),
        ReofferAfter = TimeSpan.FromMinutes(2),
        PreferredProficiency = 3,
        WidenToAnyProficiencyAfter = TimeSpan.FromSeconds(30),
        WidenToOtherQueuesAfter = TimeSpan.FromSeconds(90),
    };

    private static readonly TimeSpan JustUnderAnyProficiency = TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1);
    private static readonly TimeSpan JustUnderOtherQueues = TimeSpan.FromSeconds(90) - TimeSpan.FromTicks(1);
    private static readonly TimeSpan AnyProficiency = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OtherQueues = TimeSpan.FromSeconds(90);

    /// <summary>
    /// One row of the routing spec. <see cref="Own"/> is the queue's roster (agents with its skill and
    /// language), <see cref="Other"/> the rosters of the other skills' queues in the same language.
    /// <see cref="Expected"/> lists "agent:ring" in offer order, or "nobody".
    /// </summary>
    private sealed record RankCase(
        string Rule,
        TimeSpan Waited,
        RosterEntry[] Own,
        string Expected,
        RosterEntry[]? Other = null,
        string Channel = Webchat,
        (string Agent, TimeSpan Ago)[]? PassedBy = null,
        string? NamedAgent = null,
        TimeSpan? EnqueuedAgo = null);

    private static readonly RankCase[] RankTable =
    [
        // Skill: the queue's own roster first; the other skills' queues (same language) only in ring 3.
        new("Skill: the queue's own agent with the skill is offered at once",
            TimeSpan.Zero, [Agent("ann", proficiency: 4)], "ann:Proficient"),
        new("Skill: an agent of another skill is not offered before WidenToOtherQueuesAfter, even with nobody else",
            JustUnderOtherQueues, [], Nobody, Other: [Agent("oz", proficiency: 5)]),
        new("Skill: agents of other skills join as ring 3 at WidenToOtherQueuesAfter",
            OtherQueues, [], "oz:OtherQueues", Other: [Agent("oz", proficiency: 5)]),
        new("Skill: ring 3 comes after the queue's own agents, even when less loaded and idle longer",
            OtherQueues, [Agent("ann", proficiency: 4, used: "webchat=2", idleMinutes: 1)], "ann:Proficient, oz:OtherQueues",
            Other: [Agent("oz", proficiency: 5, idleMinutes: 60)]),
        new("Skill: an agent on both rosters is ranked once, in its own queue's ring",
            OtherQueues, [Agent("ann", proficiency: 4)], "ann:Proficient", Other: [Agent("ann", proficiency: 5)]),

        // Language: the other-queue roster holds the same language's agents; they wait for ring 3 like any other skill.
        new("Language: a same-language agent of another skill's queue is not offered in ring 2",
            AnyProficiency, [Agent("nov", proficiency: 1, used: "webchat=2")], "nov:AnyProficiency", Other: [Agent("oz")]),
        new("Language: a same-language agent of another skill's queue is offered from ring 3, after ring 2",
            OtherQueues, [Agent("nov", proficiency: 1, used: "webchat=2")], "nov:AnyProficiency, oz:OtherQueues", Other: [Agent("oz")]),

        // Proficiency rings.
        new("Proficiency: exactly PreferredProficiency is ring 1",
            TimeSpan.Zero, [Agent("ann", proficiency: 3)], "ann:Proficient"),
        new("Proficiency: below PreferredProficiency is not offered before WidenToAnyProficiencyAfter",
            JustUnderAnyProficiency, [Agent("nov", proficiency: 2)], Nobody),
        new("Proficiency: below PreferredProficiency joins as ring 2 at WidenToAnyProficiencyAfter",
            AnyProficiency, [Agent("nov", proficiency: 2)], "nov:AnyProficiency"),
        new("Proficiency: ring 1 before ring 2, even when the ring 1 agent is busier and idle for less time",
            AnyProficiency, [Agent("nov", proficiency: 1, idleMinutes: 60), Agent("ann", proficiency: 5, used: "webchat=2", idleMinutes: 1)],
            "ann:Proficient, nov:AnyProficiency"),

        // Presence: only available, connected agents; never away, offline or disconnected, in any ring.
        new("Presence: an away agent is never offered, even in the widest ring",
            OtherQueues, [Agent("ann", presence: AgentPresence.Away), Agent("bob")], "bob:Proficient"),
        new("Presence: an offline agent is never offered",
            OtherQueues, [Agent("ann", presence: AgentPresence.Offline)], Nobody),
        new("Presence: a disconnected agent (in its grace period) is never offered",
            OtherQueues, [Agent("ann", connected: false)], Nobody),
        new("Presence: an away agent of another queue is never offered in ring 3",
            OtherQueues, [], Nobody, Other: [Agent("oz", presence: AgentPresence.Away), Agent("ozzie", connected: false)]),

        // Capacity on the conversation's channel.
        new("Capacity: an agent with no free slot on the conversation's channel is skipped",
            TimeSpan.Zero, [Agent("ann", capacity: 3, used: "webchat=3"), Agent("bob", capacity: 3, used: "webchat=2")], "bob:Proficient"),
        new("Capacity: a per-channel capacity overrides the default (sms limited to 1, 1 in use)",
            TimeSpan.Zero, [Agent("ann", capacity: 3, channelCapacity: "sms=1", used: "sms=1")], Nobody, Channel: Sms),
        new("Capacity: a per-channel capacity of 0 means never on that channel",
            TimeSpan.Zero, [Agent("ann", capacity: 3, channelCapacity: "sms=0")], Nobody, Channel: Sms),
        new("Capacity: a per-channel capacity above the default gives room (webchat 5, default 1, 3 in use)",
            TimeSpan.Zero, [Agent("ann", capacity: 1, channelCapacity: "webchat=5", used: "webchat=3")], "ann:Proficient"),
        new("Capacity: conversations on another channel do not use this channel's slots",
            TimeSpan.Zero, [Agent("ann", capacity: 3, used: "sms=3")], "ann:Proficient"),

        // Order within a ring: load ratio, then longest idle, then agent id.
        new("Order: lowest load ratio first",
            TimeSpan.Zero, [Agent("ann", used: "webchat=2"), Agent("bob", used: "webchat=1"), Agent("cid")],
            "cid:Proficient, bob:Proficient, ann:Proficient"),
        new("Order: load is a ratio of the channel's capacity, not a count (3/10 before 1/3)",
            TimeSpan.Zero, [Agent("bob", capacity: 3, used: "webchat=1"), Agent("ann", channelCapacity: "webchat=10", used: "webchat=3")],
            "ann:Proficient, bob:Proficient"),
        new("Order: load counts only the conversation's channel (sms 2/3 is 0 on webchat)",
            TimeSpan.Zero, [Agent("bob", used: "webchat=1", idleMinutes: 60), Agent("ann", used: "sms=2", idleMinutes: 1)],
            "ann:Proficient, bob:Proficient"),
        new("Order: equal load, longest idle first",
            TimeSpan.Zero, [Agent("ann", used: "webchat=1", idleMinutes: 1), Agent("bob", used: "webchat=1", idleMinutes: 10)],
            "bob:Proficient, ann:Proficient"),
        new("Order: load before idle time",
            TimeSpan.Zero, [Agent("ann", used: "webchat=1", idleMinutes: 60), Agent("bob", idleMinutes: 1)],
            "bob:Proficient, ann:Proficient"),
        new("Order: equal load and idle time, agent id in ordinal order",
            TimeSpan.Zero, [Agent("bob"), Agent("ann"), Agent("Cy")], "Cy:Proficient, ann:Proficient, bob:Proficient"),

        // Agents who passed (declined or missed) are skipped for ReofferAfter.
        new("Passed: an agent who declined or missed it less than ReofferAfter ago is skipped",
            TimeSpan.Zero, [Agent("ann", idleMinutes: 10), Agent("bob")], "bob:Proficient",
            PassedBy: [("ann", TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1))]),
        new("Passed: ReofferAfter later, the agent is a candidate again",
            TimeSpan.Zero, [Agent("ann", idleMinutes: 10), Agent("bob")], "ann:Proficient, bob:Proficient",
            PassedBy: [("ann", TimeSpan.FromMinutes(2))]),
        new("Passed: when every agent passed, nobody is offered it",
            TimeSpan.Zero, [Agent("ann"), Agent("bob")], Nobody,
            PassedBy: [("ann", TimeSpan.FromSeconds(5)), ("bob", TimeSpan.FromSeconds(1))]),
        new("Passed: an agent of another queue who passed is skipped in ring 3 too",
            OtherQueues, [], "ozzie:OtherQueues", Other: [Agent("oz"), Agent("ozzie")],
            PassedBy: [("oz", TimeSpan.FromSeconds(5))]),

        // Transfer to a named agent: alone for one offer timeout, and only until it passes.
        new("Named: a transfer's named agent is offered it alone during one offer timeout, roster or not",
            TimeSpan.FromSeconds(29), [Agent("ann", proficiency: 5, idleMinutes: 60)], "nina:NamedAgent",
            NamedAgent: "nina"),
        new("Named: the named agent is proposed even if the roster says it is away (the agent grain decides)",
            TimeSpan.Zero, [Agent("nina", presence: AgentPresence.Away), Agent("ann")], "nina:NamedAgent",
            NamedAgent: "nina"),
        new("Named: one offer timeout after entering the queue, the queue's agents compete with the named agent",
            TimeSpan.FromSeconds(30), [Agent("ann", used: "webchat=1"), Agent("nina")], "nina:Proficient, ann:Proficient",
            NamedAgent: "nina"),
        new("Named: once the named agent passed, the queue's agents get it at once, without the named agent",
            TimeSpan.FromSeconds(5), [Agent("ann", used: "webchat=1"), Agent("nina")], "ann:Proficient",
            PassedBy: [("nina", TimeSpan.FromSeconds(1))], NamedAgent: "nina"),
        new("Named: the offer timeout runs from entering this queue, not from when the customer started waiting",
            TimeSpan.FromMinutes(10), [Agent("ann")], "nina:NamedAgent", NamedAgent: "nina", EnqueuedAgo: TimeSpan.FromSeconds(29)),
        new("Named: once exclusivity ends, the rings follow the customer's whole wait (ring 3 after 10 min)",
            TimeSpan.FromMinutes(10), [], "nina:OtherQueues", Other: [Agent("nina")], NamedAgent: "nina", EnqueuedAgo: TimeSpan.FromSeconds(30)),
    ];

    public static TheoryData<string> RankRules => [.. RankTable.Select(c => c.Rule)];

    [Theory]
    [MemberData(nameof(RankRules))]
    public void Rank_follows_the_routing_table(string rule)
    {
        var row = RankTable.Single(c => c.Rule == rule);
        var waiting = WaitingFor(row);

        var ranked = AgentSelection.Rank(waiting, Now, row.Own, row.Other ?? [], Options);

        Assert.Equal(row.Expected, Describe(ranked));
    }

    [Theory]
    [MemberData(nameof(RankRules))]
    public void Best_is_the_first_of_the_ranking(string rule)
    {
        var row = RankTable.Single(c => c.Rule == rule);
        var waiting = WaitingFor(row);

        var best = AgentSelection.Best(waiting, Now, row.Own, row.Other ?? [], Options);

        Assert.Equal(AgentSelection.Rank(waiting, Now, row.Own, row.Other ?? [], Options).FirstOrDefault(), best);
    }

    /// <summary>
    /// Rosters the table does not spell out: many agents with ties on load and idle time, the same agent
    /// on both rosters, busy and away agents, every ring. Seeded, so a failure repeats.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Best_agrees_with_the_ranking_on_generated_rosters(int seed)
    {
        var random = new Random(seed);
        RosterEntry RandomAgent(string id) => Agent(
            id,
            proficiency: random.Next(1, 6),
            presence: random.Next(6) == 0 ? AgentPresence.Away : AgentPresence.Available,
            connected: random.Next(10) != 0,
            capacity: random.Next(0, 4),
            used: random.Next(3) == 0 ? "" : $"{(random.Next(2) == 0 ? Webchat : Sms)}={random.Next(0, 4)}",
            idleMinutes: random.Next(0, 3));

        for (var round = 0; round < 300; round++)
        {
            var own = Enumerable.Range(0, random.Next(0, 12)).Select(i => RandomAgent($"a{random.Next(20):D2}")).DistinctBy(a => a.AgentId).ToArray();
            var other = Enumerable.Range(0, random.Next(0, 8)).Select(i => RandomAgent($"a{random.Next(20):D2}")).DistinctBy(a => a.AgentId).ToArray();
            var waiting = new WaitingConversation
            {
                ConversationId = $"conv-{round}",
                Channel = random.Next(2) == 0 ? Webchat : Sms,
                WaitingSince = Now - TimeSpan.FromSeconds(random.Next(0, 200)),
                EnqueuedAt = Now - TimeSpan.FromSeconds(random.Next(0, 40)),
                PreferredAgentId = random.Next(8) == 0 ? "a03" : null,
                PassedBy = random.Next(3) == 0 ? new Dictionary<string, DateTimeOffset> { [$"a{random.Next(20):D2}"] = Now - TimeSpan.FromSeconds(random.Next(0, 300)) } : [],
            };

            var ranked = AgentSelection.Rank(waiting, Now, own, other, Options);

            Assert.Equal(ranked.FirstOrDefault(), AgentSelection.Best(waiting, Now, own, other, Options));
        }
    }

    private static WaitingConversation WaitingFor(RankCase row) => new()
    {
        ConversationId = "conv-1",
        Channel = row.Channel,
        WaitingSince = Now - row.Waited,
        EnqueuedAt = Now - (row.EnqueuedAgo ?? row.Waited),
        PreferredAgentId = row.NamedAgent,
        PassedBy = (row.PassedBy ?? []).ToDictionary(p => p.Agent, p => Now - p.Ago),
    };

    [Fact]
    public void Rank_table_rules_are_unique()
    {
        Assert.Equal(RankTable.Length, RankTable.Select(c => c.Rule).Distinct().Count());
    }

    public static TheoryData<string, double, RoutingRing> RingTable => new()
    {
        { "a new conversation", 0, RoutingRing.Proficient },
        { "just under WidenToAnyProficiencyAfter", 29.999, RoutingRing.Proficient },
        { "exactly WidenToAnyProficiencyAfter", 30, RoutingRing.AnyProficiency },
        { "just under WidenToOtherQueuesAfter", 89.999, RoutingRing.AnyProficiency },
        { "exactly WidenToOtherQueuesAfter", 90, RoutingRing.OtherQueues },
        { "an hour", 3600, RoutingRing.OtherQueues },
        { "a negative wait (clock skew)", -5, RoutingRing.Proficient },
    };

    [Theory]
    [MemberData(nameof(RingTable))]
    public void WidestRing_widens_with_the_wait(string when, double waitedSeconds, RoutingRing expected)
    {
        // The row's description travels with the values, so a failure names the row.
        Assert.Equal((when, expected), (when, AgentSelection.WidestRing(TimeSpan.FromSeconds(waitedSeconds), Options)));
    }

    [Fact]
    public void WidestRing_with_both_widenings_at_the_same_wait_goes_straight_to_other_queues()
    {
        var options = new RoutingOptions { WidenToAnyProficiencyAfter = TimeSpan.FromSeconds(30), WidenToOtherQueuesAfter = TimeSpan.FromSeconds(30) };

        Assert.Equal(RoutingRing.Proficient, AgentSelection.WidestRing(TimeSpan.FromSeconds(29), options));
        Assert.Equal(RoutingRing.OtherQueues, AgentSelection.WidestRing(TimeSpan.FromSeconds(30), options));
    }

    /// <summary>
    /// One row of the queue-order spec: waiting conversations as "id:priority:waited seconds", in the
    /// order they were enqueued, and the ids in the order they are served.
    /// </summary>
    private static readonly (string Rule, string[] Waiting, string Served)[] QueueOrderTable =
    [
        ("Priority first, whatever the wait: VIP 30 > transfer 20 > escalated 10 > normal 0",
            [$"normal:{QueuePriority.Normal}:600", $"escalated:{QueuePriority.EscalatedAfterBotFailure}:300",
             $"vip:{QueuePriority.Vip}:10", $"transfer:{QueuePriority.Transfer}:60"],
            "vip, transfer, escalated, normal"),
        ("Returned (100) goes before everything, VIP included, even when it has just arrived",
            [$"vip:{QueuePriority.Vip}:600", $"transfer:{QueuePriority.Transfer}:600", $"returned:{QueuePriority.Returned}:0"],
            "returned, vip, transfer"),
        ("Equal priority: the longest waiting first",
            [$"c:{QueuePriority.Normal}:10", $"a:{QueuePriority.Normal}:300", $"b:{QueuePriority.Normal}:60"],
            "a, b, c"),
        ("Equal priority and wait: the conversation id decides (ordinal), so the order is total",
            [$"b:{QueuePriority.Normal}:60", $"a:{QueuePriority.Normal}:60", $"B:{QueuePriority.Normal}:60"],
            "B, a, b"),
        ("Priority, then wait, together",
            [$"n-old:{QueuePriority.Normal}:900", $"v-new:{QueuePriority.Vip}:5", $"n-new:{QueuePriority.Normal}:5", $"v-old:{QueuePriority.Vip}:50"],
            "v-old, v-new, n-old, n-new"),
    ];

    public static TheoryData<string> QueueOrderRules => [.. QueueOrderTable.Select(c => c.Rule)];

    [Theory]
    [MemberData(nameof(QueueOrderRules))]
    public void QueueOrder_serves_priority_first_then_longest_waiting(string rule)
    {
        var row = QueueOrderTable.Single(c => c.Rule == rule);
        var waiting = row.Waiting.Select(spec => spec.Split(':')).Select(parts => new WaitingConversation
        {
            ConversationId = parts[0],
            Channel = Webchat,
            Priority = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture),
            WaitingSince = Now - TimeSpan.FromSeconds(int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)),
        }).ToList();

        // As the queue grain orders them, and as a sort would: the same answer from any starting order.
        Assert.Equal(row.Served, string.Join(", ", waiting.Order(QueueOrder.Instance).Select(w => w.ConversationId)));
        var reversed = Enumerable.Reverse(waiting).ToList();
        reversed.Sort(QueueOrder.Instance);
        Assert.Equal(row.Served, string.Join(", ", reversed.Select(w => w.ConversationId)));
    }

    private static string Describe(IReadOnlyList<Candidate> ranked) =>
        ranked.Count == 0 ? Nobody : string.Join(", ", ranked.Select(c => $"{c.AgentId}:{c.Ring}"));

    /// <summary>
    /// A roster entry. <paramref name="used"/> and <paramref name="channelCapacity"/> are
    /// "channel=count" lists; <paramref name="capacity"/> is the default for channels not listed.
    /// </summary>
    private static RosterEntry Agent(
        string id,
        int proficiency = 3,
        AgentPresence presence = AgentPresence.Available,
        bool connected = true,
        int capacity = 3,
        string channelCapacity = "",
        string used = "",
        int idleMinutes = 0) =>
        new(id, id, proficiency, presence, capacity, PerChannel(channelCapacity), PerChannel(used),
            Now - TimeSpan.FromMinutes(idleMinutes), Version: 1, AnnouncedAt: Now, Connected: connected);

    private static ImmutableDictionary<string, int> PerChannel(string spec) =>
        spec.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .ToImmutableDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
}
