using System.Collections.Concurrent;
using System.Threading.Channels;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// A test agent desktop: one Connect stream whose events are filed as they arrive (offers,
/// assignments, conversation entries, notices), with waits on conditions over them.
/// </summary>
internal sealed class TestDesk : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly AsyncServerStreamingCall<AgentEvent> _call;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Task _reader;
    private readonly Lock _lock = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private readonly Dictionary<string, Offer> _offers = [];
    private readonly Dictionary<string, Assignment> _assignments = [];
    private readonly Dictionary<string, SortedDictionary<ulong, TimelineEntry>> _entries = [];
    private readonly List<ChannelWriter<AgentEvent>> _subscribers = [];

    private TestDesk(AgentService.AgentServiceClient client, string agentId, AgentProfile? profile)
    {
        Client = client;
        AgentId = agentId;
        _call = client.Connect(new ConnectRequest { Profile = profile }, cancellationToken: _cancel.Token);
        _reader = Task.Run(ReadAsync);
    }

    public AgentService.AgentServiceClient Client { get; }

    public string AgentId { get; }

    /// <summary>Every event in arrival order.</summary>
    public ConcurrentQueue<AgentEvent> Events { get; } = new();

    /// <summary>Offers ever received (also withdrawn ones), in arrival order.</summary>
    public ConcurrentQueue<Offer> OffersReceived { get; } = new();

    public ConcurrentQueue<OfferWithdrawn> Withdrawals { get; } = new();

    public ConcurrentQueue<Notice> Notices { get; } = new();

    public int Syncs => Events.Count(e => e.EventCase == AgentEvent.EventOneofCase.Sync);

    public AgentStatus? LastStatus { get; private set; }

    /// <summary>Why the stream ended, once it has.</summary>
    public Status? EndStatus { get; private set; }

    /// <summary>
    /// Opens a desktop and waits for its first sync. If the server ends the stream before sending
    /// one, throws an <see cref="RpcException"/> with the stream's status.
    /// </summary>
    public static async Task<TestDesk> ConnectAsync(SiloFixture silo, string agentId, AgentProfile? profile)
    {
        var desk = new TestDesk(silo.Agent(agentId), agentId, profile);
        await desk.WaitUntilAsync(() => desk.Syncs >= 1 || desk.EndStatus is not null);
        if (desk.Syncs == 0)
        {
            var status = desk.EndStatus!.Value;
            await desk.DisposeAsync();
            throw new RpcException(status);
        }

        return desk;
    }

    public static AgentProfile Profile(string name, string skills = "general:3", string languages = "en", uint capacity = 0)
    {
        var profile = new AgentProfile { DisplayName = name, DefaultCapacity = capacity };
        foreach (var pair in skills.Split(','))
        {
            var parts = pair.Split(':');
            profile.Skills.Add(new SkillLevel { Skill = parts[0], Proficiency = uint.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) });
        }

        profile.Languages.Add(languages.Split(','));
        return profile;
    }

    public IReadOnlyList<Offer> PendingOffers()
    {
        lock (_lock)
        {
            return [.. _offers.Values];
        }
    }

    public IReadOnlyList<Assignment> Assignments()
    {
        lock (_lock)
        {
            return [.. _assignments.Values];
        }
    }

    /// <summary>Entries of a conversation pushed to this desk (and those in its offers and assignments), by sequence.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(conversationId, out var entries) ? [.. entries.Values] : [];
        }
    }

    /// <summary>
    /// Every event from now on, in arrival order, each passed on once the desk's own state includes
    /// it (so <see cref="PendingOffers"/> and <see cref="EntriesOf"/> are at least that recent). Ends
    /// when the stream does.
    /// </summary>
    public ChannelReader<AgentEvent> Subscribe()
    {
        var feed = Channel.CreateUnbounded<AgentEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(feed.Writer);
        }

        return feed.Reader;
    }

    public async Task<Offer> WaitForOfferAsync(Func<Offer, bool>? match = null)
    {
        Offer? found = null;
        await WaitUntilAsync(() => (found = PendingOffers().FirstOrDefault(o => match?.Invoke(o) ?? true)) is not null);
        return found!;
    }

    /// <summary>Waits for the offer of <paramref name="conversationId"/> and accepts it.</summary>
    public async Task<Assignment> AcceptOfferForAsync(string conversationId)
    {
        var offer = await WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        return await Client.AcceptOfferAsync(new AcceptOfferRequest { OfferId = offer.OfferId });
    }

    /// <summary>Waits until <paramref name="offerId"/> was withdrawn and returns the withdrawal.</summary>
    public async Task<OfferWithdrawn> WaitForWithdrawalAsync(string offerId)
    {
        await WaitUntilAsync(() => Withdrawals.Any(w => w.OfferId == offerId));
        return Withdrawals.Single(w => w.OfferId == offerId);
    }

    /// <summary>The live figures of one queue, as this agent reads them.</summary>
    public async Task<QueueStats> QueueStatsAsync(string skill, string language) =>
        (await Client.GetQueueStatsAsync(new GetQueueStatsRequest { Queue = new QueueAddress { Skill = skill, Language = language } })).Queues.Single();

    /// <summary>
    /// Reads a queue's figures until <paramref name="condition"/> holds (agents announce themselves to
    /// queues one-way, so the agent figures follow a change shortly after it) or the safety timeout
    /// passed; returns the last figures read, for the caller to assert on.
    /// </summary>
    public async Task<QueueStats> WaitForQueueStatsAsync(string skill, string language, Func<QueueStats, bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow + SafetyTimeout;
        while (true)
        {
            var stats = await QueueStatsAsync(skill, language);
            if (condition(stats) || DateTimeOffset.UtcNow >= deadline)
            {
                return stats;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    public Task WaitUntilAsync(Func<bool> condition)
    {
        lock (_lock)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, signal));
            return signal.Task.WaitAsync(SafetyTimeout);
        }
    }

    /// <summary>Drops the stream as a crashed desktop or a lost network would (no goodbye).</summary>
    public async Task DropAsync()
    {
        await _cancel.CancelAsync();
        await _reader;
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        _call.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var agentEvent in _call.ResponseStream.ReadAllAsync())
            {
                lock (_lock)
                {
                    Apply(agentEvent);
                    Events.Enqueue(agentEvent);
                    _waiters.RemoveAll(w => w.Condition() && w.Signal.TrySetResult() is var _);
                    foreach (var subscriber in _subscribers)
                    {
                        subscriber.TryWrite(agentEvent);
                    }
                }
            }

            EndStatus = _call.GetStatus();
        }
        catch (RpcException ex)
        {
            EndStatus = ex.Status;
        }

        lock (_lock)
        {
            _waiters.RemoveAll(w => w.Condition() && w.Signal.TrySetResult() is var _);
            foreach (var subscriber in _subscribers)
            {
                subscriber.TryComplete();
            }
        }
    }

    private void Apply(AgentEvent agentEvent)
    {
        switch (agentEvent.EventCase)
        {
            case AgentEvent.EventOneofCase.Sync:
                _offers.Clear();
                _assignments.Clear();
                LastStatus = agentEvent.Sync.Status;
                foreach (var offer in agentEvent.Sync.Offers)
                {
                    AddOffer(offer);
                }

                foreach (var assignment in agentEvent.Sync.Assignments)
                {
                    AddAssignment(assignment);
                }

                break;
            case AgentEvent.EventOneofCase.Offer:
                OffersReceived.Enqueue(agentEvent.Offer);
                AddOffer(agentEvent.Offer);
                break;
            case AgentEvent.EventOneofCase.OfferWithdrawn:
                Withdrawals.Enqueue(agentEvent.OfferWithdrawn);
                _offers.Remove(agentEvent.OfferWithdrawn.OfferId);
                break;
            case AgentEvent.EventOneofCase.Assigned:
                _offers.Remove(_offers.Values.FirstOrDefault(o => o.Context.ConversationId == agentEvent.Assigned.ConversationId)?.OfferId ?? "");
                AddAssignment(agentEvent.Assigned);
                break;
            case AgentEvent.EventOneofCase.Entries:
                AddEntries(agentEvent.Entries.ConversationId, agentEvent.Entries.Entries);
                break;
            case AgentEvent.EventOneofCase.Notice:
                Notices.Enqueue(agentEvent.Notice);
                _assignments.Remove(agentEvent.Notice.ConversationId);
                break;
            case AgentEvent.EventOneofCase.Status:
                LastStatus = agentEvent.Status;
                break;
        }
    }

    private void AddOffer(Offer offer)
    {
        _offers[offer.OfferId] = offer;
        AddEntries(offer.Context.ConversationId, offer.Context.LastEntries);
    }

    private void AddAssignment(Assignment assignment)
    {
        _assignments[assignment.ConversationId] = assignment;
        AddEntries(assignment.ConversationId, assignment.Context.LastEntries);
    }

    private void AddEntries(string conversationId, IEnumerable<TimelineEntry> entries)
    {
        if (!_entries.TryGetValue(conversationId, out var known))
        {
            _entries[conversationId] = known = [];
        }

        foreach (var entry in entries)
        {
            known[entry.Sequence] = entry;
        }
    }

    /// <summary>Forgets a conversation's assignment locally after the agent resolved, transferred or handed it back.</summary>
    public void Forget(string conversationId)
    {
        lock (_lock)
        {
            _assignments.Remove(conversationId);
        }
    }
}
