using System.Collections.Concurrent;
using System.Threading.Channels;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// A test agent desktop on the client library: one <see cref="AgentConnection"/>, and one reader of
/// its events (<see cref="AgentConnection.ReadEventsAsync"/>) that keeps what tests assert on (the
/// events, offers received, withdrawals, ended conversations) and wakes waits. Offers, assignments
/// and entries are the library's <see cref="AgentDeskState"/>; the agent acts through <see cref="Connection"/>.
/// </summary>
internal sealed class TestDesk : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly Lock _lock = new();
    private readonly HashSet<string> _offerIds = new(StringComparer.Ordinal);
    private readonly List<ChannelWriter<AgentDeskEvent>> _subscribers = [];
    private readonly StateChanges _changes = new();
    private readonly Task _reader;

    private TestDesk(AgentConnection connection)
    {
        Connection = connection;

        // Called here, not on another task, so that the reader starts as close to the first sync as it can.
        _reader = ReadAsync();
    }

    /// <summary>The library connection: the agent's actions (accept, send, transfer, resolve, ...) and its state.</summary>
    public AgentConnection Connection { get; }

    public string AgentId => Connection.AgentId;

    /// <summary>
    /// Every event in order. The first is a <see cref="AgentDeskEvent.Synced"/>: the state when this desk
    /// started reading, which is the first sync and whatever the stream brought since.
    /// </summary>
    public ConcurrentQueue<AgentDeskEvent> Events { get; } = new();

    /// <summary>Offers ever received (also withdrawn ones), each once, in the order this desk learned of them (an offer event or a sync).</summary>
    public ConcurrentQueue<Offer> OffersReceived { get; } = new();

    public ConcurrentQueue<AgentDeskEvent.OfferWithdrawn> Withdrawals { get; } = new();

    /// <summary>Conversations that left the agent: the server's notices (customer left, returned to queue, resolved) and this desk's own resolves, transfers and hand-backs.</summary>
    public ConcurrentQueue<AgentDeskEvent.ConversationEnded> Notices { get; } = new();

    public int Syncs => Events.Count(e => e is AgentDeskEvent.Synced);

    public AgentStatus? LastStatus => Connection.State(s => s.Status);

    /// <summary>Why the connection gave up (e.g. ABORTED: another desktop took the agent), once it has.</summary>
    public Status? EndStatus { get; private set; }

    /// <summary>
    /// Opens a desktop and waits for its first sync. If the server refuses (e.g. a missing or invalid
    /// profile), throws the library's <see cref="ConnectionFailedException"/> with the stream's status.
    /// </summary>
    public static async Task<TestDesk> ConnectAsync(SiloFixture silo, string agentId, AgentProfile? profile, string? token = null)
    {
        using var timeout = new CancellationTokenSource(SafetyTimeout);
        var connection = await AgentConnection.ConnectAsync(
            new AgentConnectionOptions { AgentId = agentId, Token = token, Profile = profile, GrpcChannels = [silo.Channel], CallTimeout = SafetyTimeout },
            timeout.Token);
        return new TestDesk(connection);
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

    public IReadOnlyList<Offer> PendingOffers() => Connection.State(s => s.Offers);

    public IReadOnlyList<Assignment> Assignments() => Connection.State(s => s.Assignments);

    /// <summary>The entries the desk knows of a conversation it is offered or has, by sequence.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId) => Connection.State(s => s.EntriesOf(conversationId));

    /// <summary>
    /// Every event from now on, in order, each passed on once the desk's state includes it (so
    /// <see cref="PendingOffers"/> and <see cref="EntriesOf"/> are at least that recent). Ends when the connection does.
    /// </summary>
    public ChannelReader<AgentDeskEvent> Subscribe()
    {
        var feed = Channel.CreateUnbounded<AgentDeskEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(feed.Writer);
        }

        return feed.Reader;
    }

    /// <summary>
    /// Waits for a pending offer (the first that <paramref name="match"/>es, if given) that this desk's
    /// reader has also recorded: the library updates its state before it hands the event to readers,
    /// so a test that goes on to read <see cref="Events"/> or <see cref="OffersReceived"/> finds it there.
    /// </summary>
    public async Task<Offer> WaitForOfferAsync(Func<Offer, bool>? match = null)
    {
        Offer? found = null;
        await WaitUntilAsync(() => (found = PendingOffers().FirstOrDefault(o => (match?.Invoke(o) ?? true) && Recorded(o))) is not null);
        return found!;
    }

    /// <summary>Waits for the offer of <paramref name="conversationId"/> and accepts it.</summary>
    public async Task<Assignment> AcceptOfferForAsync(string conversationId)
    {
        var offer = await WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        return await Connection.AcceptAsync(offer.OfferId);
    }

    /// <summary>Waits until <paramref name="offerId"/> was withdrawn and returns the withdrawal.</summary>
    public async Task<AgentDeskEvent.OfferWithdrawn> WaitForWithdrawalAsync(string offerId)
    {
        await WaitUntilAsync(() => Withdrawals.Any(w => w.OfferId == offerId));
        return Withdrawals.Single(w => w.OfferId == offerId);
    }

    /// <summary>The live figures of one queue, as this agent reads them.</summary>
    public async Task<QueueStats> QueueStatsAsync(string skill, string language) =>
        (await Connection.GetQueueStatsAsync(skill, language)).Single();

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

    public Task WaitUntilAsync(Func<bool> condition) => _changes.WaitUntilAsync(condition, SafetyTimeout);

    /// <summary>Drops the stream as a crashed desktop or a lost network would (no goodbye): the server keeps the agent's work for its grace period.</summary>
    public async Task DropAsync()
    {
        await Connection.DisposeAsync();
        await _reader;
    }

    public async ValueTask DisposeAsync() => await DropAsync();

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var desktopEvent in Connection.ReadEventsAsync())
            {
                lock (_lock)
                {
                    Record(desktopEvent);
                    foreach (var subscriber in _subscribers)
                    {
                        subscriber.TryWrite(desktopEvent);
                    }
                }

                _changes.Changed();
            }
        }
        catch (ConnectionFailedException ex)
        {
            EndStatus = ex.Status;
        }
        finally
        {
            lock (_lock)
            {
                foreach (var subscriber in _subscribers)
                {
                    subscriber.TryComplete();
                }
            }

            _changes.Changed();
        }
    }

    private bool Recorded(Offer offer)
    {
        lock (_lock)
        {
            return _offerIds.Contains(offer.OfferId);
        }
    }

    private void Record(AgentDeskEvent desktopEvent)
    {
        Events.Enqueue(desktopEvent);
        switch (desktopEvent)
        {
            case AgentDeskEvent.Synced synced:
                foreach (var offer in synced.Sync.Offers)
                {
                    Received(offer);
                }

                break;
            case AgentDeskEvent.OfferReceived received:
                Received(received.Offer);
                break;
            case AgentDeskEvent.OfferWithdrawn withdrawn:
                Withdrawals.Enqueue(withdrawn);
                break;
            case AgentDeskEvent.ConversationEnded ended:
                Notices.Enqueue(ended);
                break;
        }

        void Received(Offer offer)
        {
            if (_offerIds.Add(offer.OfferId))
            {
                OffersReceived.Enqueue(offer);
            }
        }
    }
}
