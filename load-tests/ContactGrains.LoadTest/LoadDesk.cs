using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace ContactGrains.LoadTest;

/// <summary>How a simulated agent works: what it can take, how long it reads an offer, what it says.</summary>
/// <param name="Profile">Signed in with this profile; its <c>default_capacity</c> is the capacity the desk checks.</param>
/// <param name="Think">Time between an offer's arrival and the accept (reading the handoff context).</param>
/// <param name="Jitter">The think time is drawn uniformly from <paramref name="Think"/> × [1 − jitter, 1 + jitter].</param>
/// <param name="Reply">The agent's one message for an offer.</param>
/// <param name="WrapUp">The wrap-up code of every resolve.</param>
internal sealed record DeskBehaviour(AgentProfile Profile, TimeSpan Think, double Jitter, Func<Offer, string> Reply, string WrapUp)
{
    public int Capacity => (int)Profile.DefaultCapacity;

    /// <summary>One think time: <see cref="Think"/> scaled by 1 − jitter + 2 × jitter × <paramref name="unit"/> (a draw in [0, 1)).</summary>
    public TimeSpan DrawThink(double unit) => Think * (1 - Jitter + (2 * Jitter * unit));

    public static AgentProfile ProfileOf(int capacity, IEnumerable<string> skills, IEnumerable<string> languages)
    {
        var profile = new AgentProfile { DisplayName = "Load agent", DefaultCapacity = (uint)capacity };
        profile.Skills.AddRange(skills.Select(s => new SkillLevel { Skill = s, Proficiency = 3 }));
        profile.Languages.AddRange(languages);
        return profile;
    }
}

/// <summary>
/// A simulated agent desktop (an <see cref="AgentConnection"/>) shared by the <c>handoff</c> and
/// <c>hybrid</c> runs: takes every offer its stream carries, accepts it after a think time, answers
/// once and resolves. Counts what it holds against its capacity and, when given a
/// <see cref="HybridRecorder"/>, records each step for the run's checks.
/// </summary>
internal sealed class LoadDesk : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<string> _held = [];
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Task> _handling = [];
    private readonly DeskBehaviour _behaviour;
    private readonly DeskFloor _floor;
    private Task _reading = Task.CompletedTask;

    private LoadDesk(AgentConnection connection, DeskBehaviour behaviour, DeskFloor floor)
    {
        Connection = connection;
        _behaviour = behaviour;
        _floor = floor;
    }

    public AgentConnection Connection { get; }

    public ConcurrentBag<string> Resolved { get; } = [];

    /// <summary>From the offer's <c>waiting_since</c> (the handoff decision) to the accept's success, in ms.</summary>
    public ConcurrentBag<double> SpeedToAnswerMs { get; } = [];

    public ConcurrentBag<double> AcceptLatencyMs { get; } = [];

    public ConcurrentQueue<string> Problems { get; } = [];

    public int MaxHeld { get; private set; }

    public int Missed { get; private set; }

    public int Reconnections { get; private set; }

    /// <summary>Signs the agent in and starts taking offers once its first sync has arrived.</summary>
    public static async Task<LoadDesk> ConnectAsync(
        GrpcChannel grpc, string agentId, DeskBehaviour behaviour, DeskFloor floor, TimeSpan callTimeout, CancellationToken cancellationToken)
    {
        var connection = await AgentConnection.ConnectAsync(
            new AgentConnectionOptions { AgentId = agentId, Profile = behaviour.Profile, GrpcChannels = [grpc], CallTimeout = callTimeout },
            cancellationToken);
        var desk = new LoadDesk(connection, behaviour, floor);
        desk._reading = desk.ReadAsync(); // subscribed before this returns: its first event is the sync
        return desk;
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var deskEvent in Connection.ReadEventsAsync(_stop.Token))
            {
                switch (deskEvent)
                {
                    case AgentDeskEvent.OfferReceived received:
                        Take(received.Offer);
                        break;
                    case AgentDeskEvent.Synced synced:
                        // The first event, and after a reconnection or a reader that fell behind: offers it holds are new here too.
                        foreach (var offer in synced.Sync.Offers)
                        {
                            Take(offer);
                        }

                        break;
                    case AgentDeskEvent.OfferWithdrawn { Reason: WithdrawReason.TimedOut }:
                        Missed++;
                        break;
                    case AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Reconnecting }:
                        Reconnections++;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (ConnectionFailedException ex)
        {
            Problems.Enqueue($"agent {Connection.AgentId}: {ex.Message}");
        }
    }

    private void Take(Offer offer)
    {
        if (_taken.Add(offer.OfferId))
        {
            _floor.OfferArrived(offer, DateTimeOffset.UtcNow);
            _handling.Add(HandleAsync(offer));
        }
    }

    // Counted from the offer's arrival (after the agent grain reserved the slot) until just before
    // the resolve is sent (before the grain frees it): never more than the grain counts, so a
    // figure above capacity here is a real overload.
    private async Task HandleAsync(Offer offer)
    {
        var conversationId = offer.Context.ConversationId;
        lock (_lock)
        {
            _held.Add(conversationId);
            MaxHeld = Math.Max(MaxHeld, _held.Count);
            _floor.Recorder?.Record(HybridEventKind.Offered, conversationId, Connection.AgentId);
        }

        var released = false;
        void Release()
        {
            lock (_lock)
            {
                if (!released)
                {
                    released = true;
                    _held.Remove(conversationId);
                    _floor.Recorder?.Record(HybridEventKind.Released, conversationId, Connection.AgentId);
                }
            }
        }

        try
        {
            if (_behaviour.Think > TimeSpan.Zero)
            {
                await Task.Delay(_behaviour.DrawThink(Random.Shared.NextDouble()), _stop.Token);
            }

            var started = Stopwatch.GetTimestamp();
            await Connection.AcceptAsync(offer.OfferId, _stop.Token);
            AcceptLatencyMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            SpeedToAnswerMs.Add((DateTimeOffset.UtcNow - offer.WaitingSince.ToDateTimeOffset()).TotalMilliseconds);
            _floor.Recorder?.Record(HybridEventKind.Accepted, conversationId, Connection.AgentId);
            await Connection.SendAsync(conversationId, _behaviour.Reply(offer), $"{offer.OfferId}/1", _stop.Token);
            Release();
            await Connection.ResolveAsync(conversationId, _behaviour.WrapUp, cancellationToken: _stop.Token);
            _floor.Recorder?.Record(HybridEventKind.Resolved, conversationId, Connection.AgentId);
            Resolved.Add(conversationId);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            // The offer expired before the accept arrived: the queue gives it to someone else.
        }
        catch (Exception ex) when (_stop.IsCancellationRequested && ex is OperationCanceledException or RpcException or ObjectDisposedException)
        {
            // Stopped at the time limit.
        }
        catch (RpcException ex)
        {
            Problems.Enqueue($"agent {Connection.AgentId}, offer {offer.OfferId}: {ex.StatusCode} {ex.Status.Detail}");
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Waits until every offer taken so far has been handled to its end (resolved, expired or failed).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_handling.Where(t => !t.IsCompleted).ToArray() is { Length: > 0 } pending)
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        await Task.WhenAll(_handling);
        await Connection.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>The first offer of a conversation to reach any desk of the run.</summary>
/// <param name="Reason">The conversation's main handoff reason (e.g. "customer-asked-for-human", "sensitive-topic").</param>
/// <param name="DecisionToOffer">
/// From the ownership decision (the offer's <c>waiting_since</c>: the conversation grain's clock when it
/// judged the customer's message and queued the conversation) to the offer's arrival on an agent's
/// stream (this process's clock; same machine, loopback).
/// </param>
internal sealed record FirstOffer(string Reason, TimeSpan DecisionToOffer);

/// <summary>
/// What the desks of one run share: each conversation's first offer (a re-offer after a timeout would
/// count the first agent's wait too) and, for <c>hybrid</c>, the event recorder. Offers of
/// conversations left in a queue by an earlier run arrive too; the run keeps only its own.
/// </summary>
internal sealed class DeskFloor(HybridRecorder? recorder = null)
{
    private readonly ConcurrentDictionary<string, FirstOffer> _firstOffers = new(StringComparer.Ordinal);

    public HybridRecorder? Recorder { get; } = recorder;

    /// <summary>By conversation id.</summary>
    public IReadOnlyDictionary<string, FirstOffer> FirstOffers => _firstOffers;

    public void OfferArrived(Offer offer, DateTimeOffset now) =>
        _firstOffers.TryAdd(offer.Context.ConversationId, new FirstOffer(offer.Context.HandoffReasonCode, now - offer.WaitingSince.ToDateTimeOffset()));
}
