using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Bot;
using ContactGrains.Client;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest;

/// <summary>
/// A contact center's mixed day: customers over a few adapter streams, most asking routine questions
/// the bot answers, a share saying something the bot must hand over (a request for a person, fraud,
/// bereavement, a complaint, anger; English and French, see <see cref="HybridScript"/>), and agent
/// desktops (<see cref="LoadDesk"/>) accepting after a think time, replying and resolving. Closed loop:
/// <c>--conversations</c> in flight, each customer starting the next conversation when theirs ends,
/// until <c>--total</c> have started. Open loop (<c>--rate</c>): conversation <i>i</i> starts
/// <i>i</i> / rate seconds after the run's start, whatever became of the earlier ones, so the load does
/// not ease off when the silo slows down; within a conversation each message still waits for the
/// previous one's ack, as a customer reads the answer before writing again.
/// </summary>
/// <remarks>
/// Latencies (all into <see cref="LatencyHistogram"/>s):
/// <list type="bullet">
/// <item><b>ack</b>: a customer message sent on the stream → its ack (this process's monotonic clock). In
/// the open loop a conversation's first message counts from its intended start, so a generator that
/// falls behind its schedule shows as latency rather than hiding it (coordinated omission).</item>
/// <item><b>decision → offer</b>: the ownership decision (the offer's <c>waiting_since</c>, the conversation
/// grain's clock when it judged the message and queued the conversation) → the offer's arrival on an
/// agent's stream (this process's wall clock; same machine). First offer of each of the run's conversations only. It
/// can end before the customer's ack arrives: the ack and the offer travel different streams.</item>
/// <item><b>speed to answer</b>: the ack of the message that handed the conversation over → the first
/// agent reply entry seen on the customer's stream (monotonic clock). Includes the agents' think time.</item>
/// <item><b>accept call</b>: the AcceptOffer call's round trip.</item>
/// </list>
/// </remarks>
internal static class HybridLoad
{
    /// <summary>
    /// Every skill a handoff can be queued for with the shipped knowledge base and the default
    /// settings: its intents' skills, the human-only topics' skills and the default skill.
    /// </summary>
    public static IReadOnlyList<string> Skills(KnowledgeBase knowledgeBase) =>
        [.. knowledgeBase.Intents.Select(i => i.Skill).OfType<string>()
            .Concat(new OwnershipOptions().TopicSkills.Values)
            .Append(new RoutingOptions().DefaultSkill)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var callTimeout = TimeSpan.FromSeconds(options.MaxSeconds);
        var run = Guid.NewGuid().ToString("N")[..8];
        var report = new LoadReport("hybrid");
        report.Settings["address"] = options.Address;
        report.Settings["streams"] = Invariant(options.Streams);
        report.Settings["mode"] = options.ConversationsPerSecond is null ? "closed loop" : "open loop";
        if (options.ConversationsPerSecond is { } perSecond)
        {
            report.Settings["rate (conversations/s)"] = Invariant(perSecond);
        }
        else
        {
            report.Settings["conversations in flight"] = Invariant(options.Conversations);
        }

        report.Settings["total conversations"] = Invariant(options.Total);
        report.Settings["human share"] = Invariant(options.HumanShare);
        report.Settings["agents"] = Invariant(options.Agents);
        report.Settings["capacity"] = Invariant(options.Capacity);
        report.Settings["think ms"] = string.Create(CultureInfo.InvariantCulture, $"{options.ThinkMs} ± {ThinkJitter:P0}");
        report.Settings["max seconds"] = Invariant(options.MaxSeconds);
        var pace = options.ConversationsPerSecond is { } startRate
            ? string.Create(CultureInfo.InvariantCulture, $"{startRate} started per second (open loop)")
            : string.Create(CultureInfo.InvariantCulture, $"{options.Conversations} in flight");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hybrid load: {options.Total} conversations ({options.HumanShare:P0} needing a human), {pace} over {options.Streams} streams, {options.Agents} agents (capacity {options.Capacity}, think {options.ThinkMs} ms) at {options.Address} (stops after {options.MaxSeconds} s)"));

        var knowledgeBase = KnowledgeBase.LoadDefault();
        var recorder = new HybridRecorder();
        var floor = new DeskFloor(recorder);
        var behaviour = new DeskBehaviour(
            DeskBehaviour.ProfileOf(options.Capacity, Skills(knowledgeBase), knowledgeBase.Languages),
            TimeSpan.FromMilliseconds(options.ThinkMs),
            ThinkJitter,
            offer => offer.Context.Language == "fr" ? "Merci de votre patience, je m'en occupe tout de suite." : "Thanks for waiting, I'm looking into it now.",
            "load-handled");
        LoadDesk[] desks;
        try
        {
            desks = await Task.WhenAll(Enumerable.Range(0, options.Agents).Select(i =>
                LoadDesk.ConnectAsync(grpc, $"hybrid-{run}-{i}", behaviour, floor, callTimeout, deadline.Token)));
        }
        catch (Exception ex) when (ex is ConnectionFailedException or OperationCanceledException or RpcException)
        {
            return Finish(report, options, [$"the agent desktops could not connect: {ex.Message}"]);
        }

        var customers = new Customers(recorder);
        var streams = Enumerable.Range(0, options.Streams).Select(_ => ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "loadtest",
            GrpcChannels = [grpc],
            AckTimeout = callTimeout,
            CallTimeout = callTimeout,

            // Each conversation has at most a handful of entries in flight; the reader never lets them pile up.
            ReadBufferCapacity = Math.Max(1024, (options.ConversationsPerSecond ?? options.Conversations) * 8),
        })).ToArray();
        var readers = streams.Select(s => customers.ReadAsync(s, deadline.Token)).ToArray();

        var cpuBefore = Stats.OwnCpuSeconds();
        var total = Stopwatch.StartNew();
        var next = -1;
        async Task CustomerAsync()
        {
            for (var index = Interlocked.Increment(ref next); index < options.Total && !deadline.IsCancellationRequested; index = Interlocked.Increment(ref next))
            {
                await customers.ConverseAsync(streams[index % streams.Length], HybridScript.For(index, options.HumanShare), $"{run}-{index}", intendedStart: null, deadline.Token);
            }
        }

        // Open loop: conversation i is due i / rate seconds after the start; those due start together.
        var started = 0;
        var lastStart = TimeSpan.Zero;
        async Task ScheduleAsync(int perSecond)
        {
            var schedule = new ArrivalSchedule(perSecond, openConversations: 1, turns: 1);
            var conversations = new List<Task>(options.Total);
            var origin = Stopwatch.GetTimestamp();
            while (started < options.Total && !deadline.IsCancellationRequested)
            {
                var due = Math.Min(options.Total, schedule.DueBy(Stopwatch.GetElapsedTime(origin)));
                for (; started < due; started++)
                {
                    var intended = origin + (long)(schedule.DueAt(started).TotalSeconds * Stopwatch.Frequency);
                    conversations.Add(customers.ConverseAsync(
                        streams[started % streams.Length], HybridScript.For(started, options.HumanShare), $"{run}-{started}", intended, deadline.Token));
                    lastStart = Stopwatch.GetElapsedTime(origin);
                }

                if (started < options.Total)
                {
                    var wait = schedule.DueAt(started) - Stopwatch.GetElapsedTime(origin);
                    await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, deadline.Token);
                }
            }

            await Task.WhenAll(conversations);
        }

        var problems = new List<string>();
        var stopped = false;
        try
        {
            await (options.ConversationsPerSecond is { } conversationsPerSecond
                ? ScheduleAsync(conversationsPerSecond)
                : Task.WhenAll(Enumerable.Range(0, options.Conversations).Select(_ => CustomerAsync())));

            // The last resolves are recorded once their calls return, which can be after the customer saw the conversation close.
            await Task.WhenAll(desks.Select(d => d.DrainAsync(deadline.Token)));
        }
        catch (Exception ex) when (deadline.IsCancellationRequested && ex is OperationCanceledException or RpcException or ObjectDisposedException)
        {
            stopped = true;
        }

        total.Stop();
        var cpu = Stats.OwnCpuSeconds() - cpuBefore;
        foreach (var desk in desks)
        {
            await desk.DisposeAsync();
        }

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        await Task.WhenAll(readers);

        var conversations = recorder.Conversations;
        var events = recorder.Events;
        problems.AddRange(customers.Problems);
        problems.AddRange(desks.SelectMany(d => d.Problems));
        if (stopped)
        {
            problems.Add($"stopped at the time limit ({options.MaxSeconds} s) with {customers.Finished}/{options.Total} conversations finished; "
                + $"of those started, unfinished: {HybridChecks.Unfinished(conversations, events, customers.FinishedIds)}");
        }

        problems.AddRange(HybridChecks.Verify(conversations, events, options.Capacity, customers.FinishedIds));

        var seconds = total.Elapsed.TotalSeconds;
        var human = conversations.Count(c => c.NeedsHuman);
        var resolved = events.Where(e => e.Kind == HybridEventKind.Resolved && recorder.IsKnown(e.ConversationId)).Select(e => e.ConversationId).Distinct().Count();
        var foreign = events.Where(e => e.Kind == HybridEventKind.Offered && !recorder.IsKnown(e.ConversationId)).Select(e => e.ConversationId).Distinct().Count();
        report.Add("conversations started", conversations.Count, "");
        report.Add("conversations finished", customers.Finished, "");
        report.Add("needing a human", human, "");
        report.Add("run time", seconds, "s");
        // Over the schedule's span: n starts make n - 1 intervals between the first and the last.
        var achievedStartRate = started > 1 && lastStart > TimeSpan.Zero ? (started - 1) / lastStart.TotalSeconds : 0;
        if (options.ConversationsPerSecond is not null)
        {
            report.Add("last conversation started after", lastStart.TotalSeconds, "s");
            report.Add("achieved start rate", achievedStartRate, "conversations/s");
        }

        report.Add("handoffs resolved", resolved, "");
        report.Add("handoffs per second", resolved / seconds, "/s");
        report.Add("customer messages", customers.Messages, "");
        report.Add("bot-answered messages", customers.BotAnswered, "");
        report.Add("bot-answered messages per second", customers.BotAnswered / seconds, "/s");
        report.Add("routine questions the bot did not understand", customers.NotUnderstood, "");
        var firstOffers = floor.FirstOffers.Where(o => recorder.IsKnown(o.Key)).Select(o => o.Value).ToList();
        foreach (var reason in firstOffers.GroupBy(o => o.Reason, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            report.Add($"handed over for {reason.Key}", reason.Count(), "");
        }

        report.Add("most conversations held at once by one agent", desks.Max(d => d.MaxHeld), $"(capacity {options.Capacity})");
        report.Add("offers missed (timed out)", desks.Sum(d => d.Missed), "");
        report.Add("offers of conversations from outside this run", foreign, "");
        report.Add("agent stream reconnections", desks.Sum(d => d.Reconnections), "");
        report.Add("load generator CPU", cpu, "s");
        report.Latencies["ack"] = customers.Ack.Summarize();
        var decisionToOffer = new LatencyHistogram();
        foreach (var offer in firstOffers)
        {
            decisionToOffer.Record(offer.DecisionToOffer);
        }

        report.Latencies["decision → offer"] = decisionToOffer.Summarize();
        report.Latencies["speed to answer"] = customers.SpeedToAnswer.Summarize();
        var accept = new LatencyHistogram();
        foreach (var ms in desks.SelectMany(d => d.AcceptLatencyMs))
        {
            accept.Record(TimeSpan.FromMilliseconds(ms));
        }

        report.Latencies["accept call"] = accept.Summarize();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"finished {customers.Finished}/{options.Total} conversations in {seconds:F2} s: {resolved / seconds:F1} handoffs/s, {customers.BotAnswered / seconds:F1} bot-answered messages/s ({customers.Messages} customer messages)"));
        if (options.ConversationsPerSecond is { } requested)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start rate: requested {requested} conversations/s, achieved {achievedStartRate:F1} conversations/s"));
        }

        foreach (var (name, latency) in report.Latencies)
        {
            Console.WriteLine($"{name}: {latency}");
        }

        Console.WriteLine($"most conversations held at once by one agent: {desks.Max(d => d.MaxHeld)} (capacity {options.Capacity}); offers missed: {desks.Sum(d => d.Missed)}");
        Console.WriteLine("handed over for: " + string.Join(", ", report.Figures.Where(f => f.Name.StartsWith("handed over for ", StringComparison.Ordinal)).Select(f => $"{f.Name["handed over for ".Length..]} {f.Value}")));
        if (problems.Count == 0 && customers.Finished < options.Total)
        {
            problems.Add($"only {customers.Finished}/{options.Total} conversations finished");
        }

        return Finish(report, options, problems);
    }

    /// <summary>The think time's spread: each draw is uniform in think × [0.5, 1.5].</summary>
    public const double ThinkJitter = 0.5;

    private static int Finish(LoadReport report, LoadOptions options, List<string> problems)
    {
        report.Problems.AddRange(problems.Take(ReportedProblems));
        if (problems.Count > ReportedProblems)
        {
            report.Problems.Add($"… and {problems.Count - ReportedProblems} more");
        }

        report.Passed = problems.Count == 0;
        return report.Conclude(options.ReportDirectory,
            "every human-needing conversation offered, accepted once, answered and resolved once; capacity respected; no routine conversation handed over");
    }

    private const int ReportedProblems = 50;

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>The customers' side: their conversations, what their streams carried, and the figures taken from both.</summary>
    private sealed class Customers(HybridRecorder recorder)
    {
        private readonly ConcurrentDictionary<string, ConversationTrack> _tracks = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, byte> _finishedIds = new(StringComparer.Ordinal);
        private int _finished;
        private int _messages;
        private int _botAnswered;
        private int _notUnderstood;

        public ConcurrentQueue<string> Problems { get; } = new();

        public LatencyHistogram Ack { get; } = new();

        public LatencyHistogram SpeedToAnswer { get; } = new();

        public int Finished => Volatile.Read(ref _finished);

        public IReadOnlySet<string> FinishedIds => _finishedIds.Keys.ToHashSet(StringComparer.Ordinal);

        public int Messages => Volatile.Read(ref _messages);

        public int BotAnswered => Volatile.Read(ref _botAnswered);

        public int NotUnderstood => Volatile.Read(ref _notUnderstood);

        /// <summary>Files every entry of the stream's conversations with its track (registered before the first send: it runs synchronously to its first wait).</summary>
        public async Task ReadAsync(ChannelConnection stream, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var entry in stream.ReadAllAsync(cancellationToken))
                {
                    Track(entry.ConversationId).Saw(entry);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ConnectionFailedException or ObjectDisposedException)
            {
                // The end of the run, or a failed stream: its conversations do not finish, which the checks report.
            }
        }

        /// <summary>
        /// One customer's conversation: each message once the previous one is acknowledged; then a routine
        /// customer leaves (closes it) and a human-needing one waits for the agent's reply and the resolve.
        /// </summary>
        /// <param name="stream">The adapter stream this customer writes on.</param>
        /// <param name="plan">What the customer says, in order.</param>
        /// <param name="thread">The channel thread id (and customer id) of the conversation.</param>
        /// <param name="intendedStart">The open loop's due time for the first message (a <see cref="Stopwatch"/> timestamp): its ack latency counts from there. Null in the closed loop.</param>
        /// <param name="cancellationToken">The run's deadline.</param>
        public async Task ConverseAsync(ChannelConnection stream, ConversationPlan plan, string thread, long? intendedStart, CancellationToken cancellationToken)
        {
            ConversationTrack? track = null;
            string? conversationId = null;
            var ackedAt = 0L;
            for (var turn = 0; turn < plan.Turns.Count; turn++)
            {
                var sentAt = turn == 0 && intendedStart is { } intended ? Math.Min(intended, Stopwatch.GetTimestamp()) : Stopwatch.GetTimestamp();
                MessageAck ack;
                try
                {
                    ack = await stream.SendAsync(
                        new InboundMessage
                        {
                            MessageId = $"{thread}/{turn}",
                            Conversation = ConversationAddress.ForThread(thread),
                            Customer = new CustomerIdentity { ExternalCustomerId = thread, Language = plan.Language },
                            Text = plan.Turns[turn],
                        },
                        cancellationToken);
                }
                catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException)
                {
                    Problems.Enqueue($"{thread}/{turn}: {ex.Message}");
                    return;
                }

                ackedAt = Stopwatch.GetTimestamp();
                Ack.RecordSince(sentAt);
                Interlocked.Increment(ref _messages);
                if (ack.Status != AckStatus.Accepted)
                {
                    Problems.Enqueue($"{thread}/{turn}: {ack.Status} {ack.Code} {ack.Detail}");
                    return;
                }

                if (track is null)
                {
                    conversationId = ack.ConversationId;
                    track = Track(conversationId);
                    recorder.Started(new StartedConversation(conversationId, thread, plan.NeedsHuman, plan.Deciding));
                }
            }

            if (plan.NeedsHuman)
            {
                var answeredAt = await track!.FirstAgentReply.Task.WaitAsync(cancellationToken);
                SpeedToAnswer.Record(answeredAt > ackedAt ? Stopwatch.GetElapsedTime(ackedAt, answeredAt) : TimeSpan.Zero);
            }
            else
            {
                try
                {
                    await stream.CloseConversationAsync(ConversationAddress.ForId(conversationId!), "load-done", cancellationToken);
                }
                catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Problems.Enqueue($"{thread}: closing it failed: {ex.StatusCode} {ex.Status.Detail}");
                    return;
                }
            }

            await track!.Closed.Task.WaitAsync(cancellationToken);
            _tracks.TryRemove(conversationId!, out _);
            _finishedIds.TryAdd(conversationId!, 0);
            Interlocked.Increment(ref _finished);
        }

        private ConversationTrack Track(string conversationId) => _tracks.GetOrAdd(
            conversationId,
            id => new ConversationTrack(
                understood => Interlocked.Increment(ref understood ? ref _botAnswered : ref _notUnderstood),
                kind => recorder.Record(kind, id)));
    }
}

/// <summary>
/// What the customer's stream carried for one conversation, in sequence (the library's reader is
/// gap-free and in order). A bot message counts as an answer (understood or not) unless the entry
/// after it is QUEUED: then it was the handover notice. Fed by one reader; the tasks are for the customer.
/// </summary>
internal sealed class ConversationTrack(Action<bool> botAnswered, Action<HybridEventKind> record)
{
    private bool? _pendingBotAnswer;

    public TaskCompletionSource<long> FirstAgentReply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Saw(TimelineEntry entry)
    {
        var queued = entry.Status?.Kind == StatusKind.Queued;
        if (_pendingBotAnswer is { } understood && !queued)
        {
            botAnswered(understood);
        }

        _pendingBotAnswer = null;
        switch (entry)
        {
            case { Message.Sender: SenderKind.Bot }:
                _pendingBotAnswer = entry.Message.Bot?.Understood ?? false;
                break;
            case { Message.Sender: SenderKind.Agent }:
                if (FirstAgentReply.TrySetResult(Stopwatch.GetTimestamp()))
                {
                    record(HybridEventKind.Answered);
                }

                break;
            case { Status.Kind: StatusKind.Queued }:
                record(HybridEventKind.Queued);
                break;
            case { Status.Kind: StatusKind.Closed }:
                Closed.TrySetResult();
                break;
        }
    }
}
