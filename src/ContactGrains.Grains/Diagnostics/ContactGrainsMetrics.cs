using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Diagnostics;

/// <summary>
/// ContactGrains' own metrics, on the meter <see cref="MeterName"/> (docs/operations.md lists them
/// and what a dashboard shows). Counters are recorded where the thing happens; queue and agent
/// gauges are read from what the grains activated on this silo last published, so each silo
/// reports its own share and a dashboard sums over silos.
/// </summary>
public sealed class ContactGrainsMetrics
{
    public const string MeterName = "ContactGrains";

    /// <summary>Traces: a customer message's span, and the delivery of an agent's event, on this source.</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _messagesSent;
    private readonly Counter<long> _botAnswers;
    private readonly Counter<long> _handoffs;
    private readonly Counter<long> _conversationsClosed;
    private readonly Counter<long> _offers;
    private readonly Histogram<double> _ackDuration;
    private readonly Histogram<double> _storageDuration;
    private readonly ConcurrentDictionary<string, QueueStats> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AgentPresence> _agents = new(StringComparer.Ordinal);

    public ContactGrainsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _messagesReceived = meter.CreateCounter<long>("contactgrains.messages.received", "{message}", "Customer messages stored, per channel.");
        _messagesSent = meter.CreateCounter<long>("contactgrains.messages.sent", "{message}", "Bot and agent messages to customers, per channel and sender.");
        _botAnswers = meter.CreateCounter<long>("contactgrains.bot.answers", "{answer}", "The bot's answers per intent; understood=false is a miss (the bot asked to rephrase).");
        _handoffs = meter.CreateCounter<long>("contactgrains.handoffs", "{handoff}", "Conversations the bot handed to a human, per main reason code.");
        _conversationsClosed = meter.CreateCounter<long>("contactgrains.conversations.closed", "{conversation}",
            "Closed conversations per channel, last intent and whether the bot contained them (no human ever owned them).");
        _offers = meter.CreateCounter<long>("contactgrains.offers", "{offer}", "Offers to agents per queue and outcome: made, accepted, declined, expired, withdrawn.");
        _ackDuration = meter.CreateHistogram<double>("contactgrains.ack.duration", "s", "From a customer message's arrival at the silo to its ack, per channel, transport and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _storageDuration = meter.CreateHistogram<double>("contactgrains.storage.duration", "s",
            "Grain state reads, writes and clears, from the start of the storage call to its end, per state, operation and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        meter.CreateObservableGauge("contactgrains.queue.waiting", () => _queues.Values.Select(q => new Measurement<int>(q.Waiting, Queue(q))),
            "{conversation}", "Conversations waiting in each queue.");
        meter.CreateObservableGauge("contactgrains.queue.longest_wait", () => _queues.Values.Select(q => new Measurement<double>(q.LongestWait.TotalSeconds, Queue(q))),
            "s", "How long the longest-waiting conversation of each queue has waited.");
        meter.CreateObservableGauge("contactgrains.queue.service_level", () => _queues.Values.Where(q => q.ServiceLevel is not null).Select(q => new Measurement<double>(q.ServiceLevel!.Value, Queue(q))),
            "1", "Share of the last hour's answered conversations answered within the queue's threshold (60 s by default).");
        meter.CreateObservableGauge("contactgrains.queue.agents", () => _queues.Values.SelectMany(q => new[]
        {
            new Measurement<int>(q.AgentsAvailable, Queue(q), new("state", "available")),
            new Measurement<int>(q.AgentsBusy, Queue(q), new("state", "busy")),
        }), "{agent}", "Agents of each queue, available (a free slot) or busy.");
        meter.CreateObservableGauge("contactgrains.agents", () => _agents.Values.GroupBy(p => p).Select(g =>
            new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("presence", g.Key.ToString().ToLowerInvariant()))),
            "{agent}", "Agents by presence (available, away, offline), of the agent grains active on this silo.");
    }

    /// <summary>One storage operation of a grain's state (<see cref="InlinePersistentState{TState}"/>).</summary>
    public void StorageOperation(string state, string operation, bool failed, TimeSpan elapsed) =>
        _storageDuration.Record(elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("state", state),
            new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("outcome", failed ? "failed" : "ok"));

    public void MessageReceived(string channel) => _messagesReceived.Add(1, new KeyValuePair<string, object?>("channel", channel));

    public void MessageSent(string channel, SenderKind sender) =>
        _messagesSent.Add(1, new("channel", channel), new("sender", sender == SenderKind.Bot ? "bot" : "agent"));

    public void BotAnswered(string? intent, bool understood) =>
        _botAnswers.Add(1, new("intent", intent ?? "none"), new("understood", understood));

    public void HandedOff(string reasonCode) => _handoffs.Add(1, new KeyValuePair<string, object?>("reason", reasonCode));

    public void ConversationClosed(string channel, string? lastIntent, bool contained) =>
        _conversationsClosed.Add(1, new("channel", channel), new("intent", lastIntent ?? "none"), new("contained", contained));

    public void Offer(string queue, string outcome) => _offers.Add(1, new("queue", queue), new("outcome", outcome));

    public void AckSent(string channel, string transport, string outcome, TimeSpan elapsed) =>
        _ackDuration.Record(elapsed.TotalSeconds, new("channel", channel), new("transport", transport), new("outcome", outcome));

    /// <summary>A queue grain's figures, as of now; <see cref="QueueGone"/> when it deactivates.</summary>
    public void QueuePublished(QueueStats stats) => _queues[stats.QueueKey] = stats;

    public void QueueGone(string queueKey) => _queues.TryRemove(queueKey, out _);

    /// <summary>An agent grain's presence, as of now; <see cref="AgentGone"/> when it deactivates.</summary>
    public void AgentPublished(string agentId, AgentPresence presence) => _agents[agentId] = presence;

    public void AgentGone(string agentId) => _agents.TryRemove(agentId, out _);

    private static KeyValuePair<string, object?> Queue(QueueStats stats) => new("queue", stats.QueueKey);
}
