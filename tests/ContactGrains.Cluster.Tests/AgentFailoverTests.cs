using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Xunit.Abstractions;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// No conversation is ever stranded with a disconnected agent: three silo processes on PostgreSQL,
/// and the silo serving an agent's desktop stream is killed with SIGKILL while the agent holds a
/// conversation. Either the desktop comes back (to a survivor) within the grace period and keeps
/// the conversation, or it never does and the conversation goes back to its queue and on to another
/// agent. Each runs with the agent's grain on the killed silo (it must be re-activated on a survivor
/// from its stored state) and on a survivor (it lives on and notices the silence); the placement is
/// arranged, not left to chance. A last case has a silent customer: only the durable agent-watch
/// reminder then brings the dead agent's grain back, a minute or so after the kill.
/// </summary>
public sealed class AgentFailoverTests(ITestOutputHelper output)
{
    public enum AgentGrainPlacement
    {
        /// <summary>The agent grain lives on the silo serving the desktop's stream: both die together.</summary>
        OnTheKilledSilo,

        /// <summary>The agent grain lives on another silo and survives the kill.</summary>
        OnASurvivingSilo,
    }

    public enum CustomerWrites
    {
        /// <summary>Never: only the durable agent-watch reminder can wake an agent grain that died with its silo.</summary>
        Never,

        /// <summary>Right after the kill, then again every few seconds until told the conversation is queued again.</summary>
        UntilRequeued,
    }

    private const string Skill = "delivery";
    private const string Queue = "delivery:en";

    /// <summary>Everything from the cluster's start to the last assertion stops by then.</summary>
    private static readonly TimeSpan SafetyLimit = TimeSpan.FromSeconds(240);

    /// <summary>One step on a healthy cluster (a message, an offer, an accept).</summary>
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A step across the crash: the dead silo must first be voted out (fast failure detection: a few
    /// seconds) before the grains it hosted can be re-activated, then the grace period runs.
    /// </summary>
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(60);

    /// <summary>Waiting for the agent-watch reminder: its 1-minute period, the grace period, and the dead silo's reminders taken over.</summary>
    private static readonly TimeSpan ReminderLimit = TimeSpan.FromSeconds(150);

    /// <summary>How long the customer waits for an answer before writing again.</summary>
    private static readonly TimeSpan CustomerPatience = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Short routing timings (the defaults are tens of seconds), the same on every silo. Silence is
    /// noticed fast (the stream's silo dies without a word), but the grace period leaves a desktop
    /// time to get through while the dead silo is voted out on a loaded machine, and no test here
    /// waits for an offer to expire.
    /// </summary>
    private static readonly Dictionary<string, string> Settings = new(StringComparer.Ordinal)
    {
        ["ContactGrains:Routing:OfferTimeout"] = "00:00:30",
        ["ContactGrains:Routing:DisconnectGracePeriod"] = "00:00:15",
        ["ContactGrains:Routing:HeartbeatInterval"] = "00:00:00.500",
        ["ContactGrains:Routing:HeartbeatTimeout"] = "00:00:03",
        ["ContactGrains:Routing:AnnounceInterval"] = "00:00:01",
        // The agents' and queues' own lines (connected, disconnected, offline, offered, claimed) in the logs a failure keeps.
        ["Logging:LogLevel:ContactGrains.Grains.Agents"] = "Information",
        ["Logging:LogLevel:ContactGrains.Grains.Routing"] = "Information",
        ["Logging:LogLevel:ContactGrains.Silo.Agents"] = "Information",
    };

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private TimeSpan Now => _clock.Elapsed;

    [Theory]
    [InlineData(AgentGrainPlacement.OnTheKilledSilo)]
    [InlineData(AgentGrainPlacement.OnASurvivingSilo)]
    public async Task Desktop_whose_silo_is_killed_reconnects_to_a_survivor_within_the_grace_period_and_keeps_its_conversation_losing_nothing(
        AgentGrainPlacement placement)
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(postgres, "agentback", silos: 3, Settings);
        var (victim, survivors) = await PlaceAgentGrainAsync(cluster, "ann", placement);
        await using var customer = new TestCustomer(survivors[0], "agentback-thread", "agentback-customer", () => Now);
        await using var ann = new AgentDesk("ann", Profile("Ann"), () => Now);

        await ClusterTestFailure.WithDiagnosticsAsync(cluster, () => Seen(customer, ann), () => RunAsync(async () =>
        {
            // The desktop knows every silo, the one to be killed first: when its stream breaks, its
            // connection moves on to a survivor by itself, with backoff, within the grace period.
            await ann.ConnectAsync([victim, survivors[1], survivors[0]], AgentDesk.SiloKillPolicy, StepLimit);
            var conversationId = await HandOverAsync(customer, ann);
            await ReportPlacementAsync(cluster, victim, ann.AgentId, conversationId, expected: placement);

            await KillAsync(victim);

            // The customer writes while the desktop is away: the reconnect's sync, or a push to the
            // new stream, must bring it to the agent.
            var whileAway = customer.SayAsync("Hello? Are you still there?", FailoverLimit);

            // The desktop sees its stream break, and reconnects to a survivor without its profile.
            var broke = await ann.WaitForAsync(e => e.Event is AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Reconnecting or ConnectionState.Failed },
                StepLimit, "the desktop to see its stream break");
            var ended = ((AgentDeskEvent.ConnectionChanged)broke.Event).Change;
            output.WriteLine($"{broke.At.TotalSeconds:0.000}s the desktop's stream to {victim.Name} ended: {ended.Status?.StatusCode} {ended.Status?.Detail}");
            Assert.Equal(ConnectionState.Reconnecting, ended.State);
            var back = await ann.WaitForAsync(
                e => e.Event is AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Connected or ConnectionState.Failed },
                FailoverLimit, "the desktop to reconnect");
            var reconnected = ((AgentDeskEvent.ConnectionChanged)back.Event).Change;
            Assert.True(reconnected.State == ConnectionState.Connected, $"the desktop gave up: {reconnected.Status?.StatusCode} {reconnected.Status?.Detail}");
            var backOn = Assert.Single(survivors, s => TestAdapter.IsAddressOf(reconnected.Address, s));
            var stream = back.Stream;
            output.WriteLine($"{back.At.TotalSeconds:0.000}s the desktop is back on {backOn.Name} (stream {stream}, {(back.At - broke.At).TotalSeconds:0.00}s after the break, "
                + $"{ann.Connection.Streams} streams opened in all)");

            // The new stream starts with a sync: the agent kept the conversation, and nothing else.
            var firstOfStream = await ann.WaitForAsync(e => e.Stream == stream && e.Event is not AgentDeskEvent.ConnectionChanged, StepLimit,
                "the new stream's first event");
            var first = Assert.IsType<AgentDeskEvent.Synced>(firstOfStream.Event).Sync;
            Assert.Equal([conversationId], first.Assignments.Select(a => a.ConversationId));
            Assert.Empty(first.Offers);
            Assert.Equal(Presence.Available, first.Status.Presence);
            Assert.True(first.Status.Connected);
            Assert.Equal(1u, first.Status.Assignments);

            // What the customer wrote meanwhile reached the agent (in the sync or pushed after it).
            var away = await whileAway;
            await Eventually.HoldsAsync(() => ann.EntriesOf(conversationId).Any(e => e.Sequence == away.Sequence), StepLimit,
                () => $"the desktop to have the customer's message #{away.Sequence}, written while it was away");

            // The customer's next message is pushed to the new stream.
            var next = await customer.SayAsync("It was due on Monday, order 40021.", StepLimit);
            await Eventually.HoldsAsync(
                () => ann.Events.Any(e => e.Stream == stream && e.Event is AgentDeskEvent.EntriesReceived r
                    && r.ConversationId == conversationId && r.Entries.Any(x => x.Sequence == next.Sequence)),
                StepLimit, () => $"the new stream to push the customer's message #{next.Sequence}");

            // The agent's reply reaches the customer.
            var reply = await ann.SayAsync(conversationId, "ann-2", "Found it: it is at the depot and will be delivered tomorrow.", StepLimit);
            await Eventually.HoldsAsync(() => customer.Received(conversationId).Any(e => e.Sequence == reply.Sequence), StepLimit,
                () => $"the customer to receive the agent's reply #{reply.Sequence}");

            // The conversation never left the agent: the reconnect came within the grace period.
            Assert.DoesNotContain(ann.Events, e => e.Stream >= stream && e.Event is AgentDeskEvent.ConversationEnded);
            var view = await ConversationAsync(customer, conversationId);
            Assert.Equal(["new-conversation", "customer-asked-for-human", "offer-accepted"], view.Ledger.Select(c => c.ReasonCode));
            Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = ann.AgentId }, view.Owner);

            await AssertNothingLostAsync(customer, conversationId, [ann], [ann]);
            await ReportAgentGrainAsync(cluster, ann.AgentId, "after the reconnect");
            output.WriteLine(Seen(customer, ann));
        }));
    }

    [Theory]
    [InlineData(AgentGrainPlacement.OnTheKilledSilo, CustomerWrites.UntilRequeued)]
    [InlineData(AgentGrainPlacement.OnASurvivingSilo, CustomerWrites.UntilRequeued)]
    [InlineData(AgentGrainPlacement.OnTheKilledSilo, CustomerWrites.Never)]
    public async Task Conversation_of_an_agent_whose_silo_is_killed_and_who_never_comes_back_returns_to_its_queue_and_another_agent_takes_it(
        AgentGrainPlacement placement, CustomerWrites writes)
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(postgres, "agentgone", silos: 3, Settings);
        var (victim, survivors) = await PlaceAgentGrainAsync(cluster, "ann", placement);

        // The second agent must outlive the kill whole: its grain is placed off the victim too.
        var benId = await AgentIdOffAsync(cluster, "ben", victim);
        await using var customer = new TestCustomer(survivors[0], "agentgone-thread", "agentgone-customer", () => Now);
        await using var ann = new AgentDesk("ann", Profile("Ann"), () => Now);
        await using var ben = new AgentDesk(benId, Profile("Ben"), () => Now);

        await ClusterTestFailure.WithDiagnosticsAsync(cluster, () => Seen(customer, ann, ben), () => RunAsync(async () =>
        {
            // Ann's desktop knows only the silo to be killed and never reconnects: she never comes
            // back. Ben's stream is on a survivor, which must not break either.
            await ann.ConnectAsync([victim], ReconnectPolicy.None, StepLimit);
            var conversationId = await HandOverAsync(customer, ann);
            await ben.ConnectAsync([survivors[1]], ReconnectPolicy.None, StepLimit);
            await ReportPlacementAsync(cluster, victim, ann.AgentId, conversationId, expected: placement);
            var beforeKill = await TranscriptAsync(customer, conversationId);

            await KillAsync(victim);
            await ann.WaitForAsync(e => e.Event is AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Failed }, StepLimit,
                "ann's stream to end");

            // Ann's desktop never comes back. If her grain lived on the killed silo, it has no
            // activation left and nothing else calls it: her queues only listen to her. A customer
            // message makes the conversation push it to her (one-way), which re-activates her grain
            // on a survivor, from its stored state; its watch then finds the stream silent and the
            // grace period over. The customer writes until answered, not once: a message stored
            // before the cluster has voted the dead silo out is pushed to the dead silo and lost
            // without an error (one-way), and then only the durable agent-watch reminder (1-minute
            // period) wakes her, up to a minute or two later. The Never case waits for that reminder.
            TimelineEntry? Requeued() => customer.Received(conversationId).FirstOrDefault(e => e.Sequence > (ulong)beforeKill.Count && e.Status?.Kind == StatusKind.Queued);
            var hellos = await CustomerAfterTheKillAsync(customer, Requeued, writes);

            Offer? offer = null;
            await Eventually.HoldsAsync(() => (offer = ben.PendingOffers().FirstOrDefault(o => o.Context.ConversationId == conversationId)) is not null,
                writes == CustomerWrites.Never ? ReminderLimit : FailoverLimit,
                () => $"{ben.AgentId} to be offered {conversationId} after {ann.AgentId} was gone past the grace period");
            output.WriteLine($"{Now.TotalSeconds:0.000}s {ben.AgentId} was offered the conversation; the customer wrote {hellos} message(s) after the kill");

            // Back at the front of its queue, for the reason that the agent dropped, with its transcript.
            Assert.Equal(Queue, offer!.Queue);
            Assert.Equal(100, offer.Priority);
            Assert.Equal("agent-disconnected", offer.Context.HandoffReasonCode);
            var atOffer = (await TranscriptAsync(customer, conversationId)).Where(e => e.Sequence <= offer.Context.LastSequence).ToList();
            Assert.Equal(Entries.Describe(atOffer.TakeLast(20)), Entries.Describe(offer.Context.LastEntries));
            Assert.Equal(Entries.Describe(beforeKill), Entries.Describe(atOffer.Take(beforeKill.Count)));

            // The customer was told.
            await Eventually.HoldsAsync(() => Requeued() is not null, StepLimit, () => "the customer to be told the conversation is queued again");
            Assert.StartsWith("Your adviser was disconnected", Requeued()!.Status.Detail, StringComparison.Ordinal);

            // Ben takes it, and the conversation carries on with him.
            await ben.AcceptAsync(offer, StepLimit);
            var said = await customer.SayAsync("My parcel, order 40021, was due on Monday.", StepLimit);
            await Eventually.HoldsAsync(() => ben.EntriesOf(conversationId).Any(e => e.Sequence == said.Sequence), StepLimit,
                () => $"{ben.AgentId} to receive the customer's message #{said.Sequence}");
            var reply = await ben.SayAsync(conversationId, "ben-1", "I'm Ben, taking over: your parcel is at the depot.", StepLimit);
            await Eventually.HoldsAsync(() => customer.Received(conversationId).Any(e => e.Sequence == reply.Sequence), StepLimit,
                () => $"the customer to receive {ben.AgentId}'s reply #{reply.Sequence}");

            var view = await ConversationAsync(customer, conversationId);
            Assert.Equal(
                ["new-conversation", "customer-asked-for-human", "offer-accepted", "agent-disconnected", "offer-accepted"],
                view.Ledger.Select(c => c.ReasonCode));
            Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = ann.AgentId }, view.Ledger[3].From);
            Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = Queue }, view.Ledger[3].To);
            Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = ben.AgentId }, view.Owner);

            // Ben's view of the transcript is the customer's.
            var transcript = await TranscriptAsync(customer, conversationId);
            var bens = await ben.RetryUnavailableAsync(c => c.GetTranscriptAsync(conversationId), StepLimit);
            Assert.Equal(Entries.Describe(transcript), Entries.Describe(bens.Entries));

            // Ann went offline holding nothing.
            await ReportAgentGrainAsync(cluster, ann.AgentId, "after the return");
            var status = await Transcripts.RetryUnavailableAsync(() => AgentClient.Create(survivors[0].Channel, ann.AgentId).GetStatusAsync(new GetStatusRequest()).ResponseAsync);
            Assert.Equal(Presence.Offline, status.Presence);
            Assert.False(status.Connected);
            Assert.Equal(0u, status.Assignments);

            // Ann saw everything up to the kill; Ben everything from the first entry his offer carried
            // (its last 20: the start itself unless the customer wrote many times while waiting).
            await AssertNothingLostAsync(customer, conversationId, [ann, ben], [ben], seenFrom: (ulong)offer.Context.LastEntries[0].Sequence);
            Assert.Equal(Entries.Describe(beforeKill), Entries.Describe(ann.EntriesOf(conversationId)));
            output.WriteLine(Seen(customer, ann, ben));
        }));
    }

    /// <summary>
    /// What the customer does after the kill. A first message may be stored before the cluster knows
    /// the silo is dead: its one-way push to the agent then goes to the dead silo and is lost without
    /// a trace. A customer who writes again a moment later, as customers do, wakes the agent once
    /// the silo is voted out.
    /// </summary>
    private async Task<int> CustomerAfterTheKillAsync(TestCustomer customer, Func<TimelineEntry?> requeued, CustomerWrites writes)
    {
        if (writes == CustomerWrites.Never)
        {
            return 0;
        }

        var patience = Stopwatch.StartNew();
        var count = 0;
        while (requeued() is null)
        {
            if (patience.Elapsed > FailoverLimit)
            {
                throw new TimeoutException($"The customer wrote {count} messages over {FailoverLimit.TotalSeconds:0} s after the kill and the conversation was never queued again.");
            }

            await customer.SayAsync(count == 0 ? "Hello? Is anyone there?" : $"Hello? ({count + 1})", FailoverLimit);
            count++;
            var quiet = Stopwatch.StartNew();
            while (requeued() is null && quiet.Elapsed < CustomerPatience)
            {
                await Task.Delay(50);
            }
        }

        return count;
    }

    private static AgentProfile Profile(string name) => new()
    {
        DisplayName = name,
        Skills = { new SkillLevel { Skill = Skill, Proficiency = 4 } },
        Languages = { "en" },
    };

    /// <summary>Bounds the whole body: a hang fails with diagnostics instead of blocking the run.</summary>
    private static Task RunAsync(Func<Task> body) => body().WaitAsync(SafetyLimit);

    /// <summary>
    /// Activates the agent's grain (a status read, before its desktop ever connects), finds the silo
    /// it landed on, and picks the silo to kill: that one, or another. The desktop then connects to
    /// the silo to kill, so both placements are covered on every run, whatever the placement policy.
    /// </summary>
    private async Task<(SiloProcess Victim, IReadOnlyList<SiloProcess> Survivors)> PlaceAgentGrainAsync(
        SiloCluster cluster, string agentId, AgentGrainPlacement placement)
    {
        var home = await ActivateAgentGrainAsync(cluster, agentId, via: cluster.Silos[0]);
        var victim = placement == AgentGrainPlacement.OnTheKilledSilo ? home : cluster.Silos.First(s => s != home);
        var survivors = cluster.Silos.Where(s => s != victim).ToList();
        output.WriteLine($"{agentId}'s grain is on {home.Name}; {victim.Name} will be killed; the customer's adapter is on {survivors[0].Name}");
        return (victim, survivors);
    }

    /// <summary>
    /// The first of <paramref name="prefix"/>-1, -2, … whose grain is activated on another silo than
    /// <paramref name="avoid"/>. Each is activated through another surviving silo: the placement
    /// favours the calling silo while the cluster is idle.
    /// </summary>
    private async Task<string> AgentIdOffAsync(SiloCluster cluster, string prefix, SiloProcess avoid)
    {
        var callers = cluster.Silos.Where(s => s != avoid).ToList();
        var tried = new List<string>();
        for (var i = 1; i <= 10; i++)
        {
            var agentId = $"{prefix}-{i}";
            var home = await ActivateAgentGrainAsync(cluster, agentId, via: callers[i % callers.Count]);
            if (home != avoid)
            {
                output.WriteLine($"{agentId}'s grain is on {home.Name}");
                return agentId;
            }

            tried.Add($"{agentId} through {callers[i % callers.Count].Name}");
        }

        throw new InvalidOperationException($"Every agent grain activated was placed on {avoid.Name} ({string.Join(", ", tried)}): the placement is not what this test expects.");
    }

    private static async Task<SiloProcess> ActivateAgentGrainAsync(SiloCluster cluster, string agentId, SiloProcess via)
    {
        await AgentClient.Create(via.Channel, agentId).GetStatusAsync(new GetStatusRequest());
        return await AgentGrainSiloAsync(cluster, agentId)
            ?? throw new InvalidOperationException($"The cluster lists no activation of agent {agentId}'s grain right after a call to it.");
    }

    /// <summary>Where the cluster says the agent's grain is active (null: nowhere).</summary>
    private static async Task<SiloProcess?> AgentGrainSiloAsync(SiloCluster cluster, string agentId) =>
        await GrainSiloAsync(cluster, "AgentGrain", agentId);

    private static async Task<SiloProcess?> GrainSiloAsync(SiloCluster cluster, string grainClass, string key)
    {
        var management = (await cluster.ClientAsync()).GetGrain<IManagementGrain>(0);
        var activations = (await management.GetDetailedGrainStatistics())
            .Where(s => s.GrainType.Contains(grainClass, StringComparison.Ordinal) && s.GrainId.Key.ToString() == key)
            .ToList();
        return activations.Count switch
        {
            0 => null,
            1 => cluster.BySiloPort(activations[0].SiloAddress.Endpoint.Port),
            _ => throw new InvalidOperationException(
                $"{grainClass} {key} has {activations.Count} activations: {string.Join(", ", activations.Select(a => a.SiloAddress))}."),
        };
    }

    /// <summary>
    /// The customer asks about a parcel, then for a human; the agent accepts the offer; one message
    /// each way. Returns the conversation id.
    /// </summary>
    private async Task<string> HandOverAsync(TestCustomer customer, AgentDesk agent)
    {
        var question = await customer.SayAsync("Where is my parcel?", StepLimit);
        var conversationId = question.ConversationId;
        await customer.SayAsync("I want to speak to a human", StepLimit);
        await Eventually.HoldsAsync(() => customer.Received(conversationId).Any(e => e.Status?.Kind == StatusKind.Queued), StepLimit,
            () => "the customer to be told they are queued");

        Offer? offer = null;
        await Eventually.HoldsAsync(() => (offer = agent.PendingOffers().FirstOrDefault(o => o.Context.ConversationId == conversationId)) is not null,
            StepLimit, () => $"{agent.AgentId} to be offered {conversationId}");
        Assert.Equal(Queue, offer!.Queue);
        await agent.AcceptAsync(offer, StepLimit);
        await Eventually.HoldsAsync(() => customer.Received(conversationId).Any(e => e.Status?.Kind == StatusKind.AgentJoined), StepLimit,
            () => "the customer to be told the agent joined");

        var said = await customer.SayAsync("I ordered it two weeks ago.", StepLimit);
        await Eventually.HoldsAsync(() => agent.EntriesOf(conversationId).Any(e => e.Sequence == said.Sequence), StepLimit,
            () => $"{agent.AgentId} to receive the customer's message #{said.Sequence}");
        var reply = await agent.SayAsync(conversationId, $"{agent.AgentId}-1", "Let me check with the carrier.", StepLimit);
        await Eventually.HoldsAsync(() => customer.Received(conversationId).Any(e => e.Sequence == reply.Sequence), StepLimit,
            () => $"the customer to receive the agent's reply #{reply.Sequence}");
        output.WriteLine($"{Now.TotalSeconds:0.000}s conversation {conversationId} is with {agent.AgentId}, up to #{reply.Sequence}");
        return conversationId;
    }

    /// <summary>Checks the agent's grain is where the scenario put it, and says where the conversation and its queue live.</summary>
    private async Task ReportPlacementAsync(SiloCluster cluster, SiloProcess victim, string agentId, string conversationId, AgentGrainPlacement expected)
    {
        var agentSilo = await AgentGrainSiloAsync(cluster, agentId);
        Assert.NotNull(agentSilo);
        Assert.Equal(expected == AgentGrainPlacement.OnTheKilledSilo, agentSilo == victim);
        var conversationSilo = await GrainSiloAsync(cluster, "ConversationGrain", conversationId);
        var queueSilo = await GrainSiloAsync(cluster, "QueueGrain", Queue);
        output.WriteLine($"Before the kill: {agentId}'s grain on {agentSilo.Name}{Killed(agentSilo)}, the conversation on {conversationSilo?.Name}{Killed(conversationSilo)}, "
            + $"queue {Queue} on {queueSilo?.Name}{Killed(queueSilo)}");

        string Killed(SiloProcess? silo) => silo == victim ? " (the killed silo)" : "";
    }

    /// <summary>For the record: where the agent's grain is now (the statistics need every silo to answer, so the dead one must be voted out first).</summary>
    private async Task ReportAgentGrainAsync(SiloCluster cluster, string agentId, string when)
    {
        var patience = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                output.WriteLine($"{Now.TotalSeconds:0.000}s {when}: {agentId}'s grain is on {(await AgentGrainSiloAsync(cluster, agentId))?.Name ?? "no silo"}");
                return;
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                if (patience.Elapsed > StepLimit)
                {
                    output.WriteLine($"{when}: where {agentId}'s grain is could not be read ({ex.GetType().Name}: {ex.Message})");
                    return;
                }

                await Task.Delay(500);
            }
        }
    }

    private async Task KillAsync(SiloProcess victim)
    {
        Assert.True(victim.SiloIsRunning, $"{victim.Name} died before the kill");
        var killing = Now;
        await victim.KillAsync();
        output.WriteLine($"{killing.TotalSeconds:0.000}s-{Now.TotalSeconds:0.000}s killed {victim.Name} with SIGKILL");
    }

    private static async Task<IReadOnlyList<TimelineEntry>> TranscriptAsync(TestCustomer customer, string conversationId) =>
        (await Transcripts.ReadAsync(ChannelClient.Create(customer.Silo.Channel, TestAdapter.ChannelName), conversationId)).Entries;

    private static Task<ConversationView> ConversationAsync(TestCustomer customer, string conversationId) =>
        Transcripts.RetryUnavailableAsync(() => ChannelClient.Create(customer.Silo.Channel, TestAdapter.ChannelName)
            .GetConversationAsync(new GetConversationRequest { Conversation = new ConversationAddress { ConversationId = conversationId } }).ResponseAsync);

    /// <summary>
    /// The stored transcript (GetTranscript) against what everyone sent and saw: the customer's
    /// messages once each, in order, at their acked sequences; the agents' messages once each; the
    /// customer's stream delivered every entry once, in order; each of <paramref name="seeingAll"/>
    /// learnt every entry from <paramref name="seenFrom"/> on (offers, syncs, pushes, its own messages).
    /// </summary>
    private async Task AssertNothingLostAsync(
        TestCustomer customer, string conversationId, IReadOnlyList<AgentDesk> agents, IReadOnlyList<AgentDesk> seeingAll, ulong seenFrom = 1)
    {
        var (entries, last) = await Transcripts.ReadAsync(ChannelClient.Create(customer.Silo.Channel, TestAdapter.ChannelName), conversationId);
        output.WriteLine($"Transcript of {conversationId}:\n  " + string.Join("\n  ", Entries.Describe(entries)));
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (ulong)i), entries.Select(e => e.Sequence));

        var sent = customer.Sent;
        Assert.Equal(sent.Select(m => m.Id), Transcripts.CustomerMessageIds(entries));
        Assert.All(sent, m => Assert.Equal(m.Text, entries[(int)m.Ack.Sequence - 1].Message.Text));

        var agentMessages = entries.Where(e => e.Message is { Sender: SenderKind.Agent }).ToList();
        Assert.Equal(
            agents.SelectMany(a => a.EntriesOf(conversationId).Where(e => e.Message is { Sender: SenderKind.Agent } && e.Message.SenderId == a.AgentId))
                .OrderBy(e => e.Sequence).Select(Entries.Describe),
            Entries.Describe(agentMessages));

        await Eventually.HoldsAsync(() => customer.Received(conversationId).Count >= entries.Count, StepLimit,
            () => $"the customer's stream to deliver all {entries.Count} entries (it has {customer.Received(conversationId).Count})");
        Assert.Equal(Entries.Describe(entries), Entries.Describe(customer.Received(conversationId)));

        foreach (var agent in seeingAll)
        {
            Assert.Equal(Entries.Describe(entries.Where(e => e.Sequence >= seenFrom)), Entries.Describe(agent.EntriesOf(conversationId)));
        }
    }

    private string Seen(TestCustomer customer, params AgentDesk[] desks) =>
        $"Test clock now {Now.TotalSeconds:0.000}s.\nCustomer:\n  {string.Join("\n  ", customer.Log)}"
        + string.Concat(desks.Select(d => $"\nDesk {d.AgentId}:\n  {string.Join("\n  ", d.Log)}"));
}
